//! The XML schemas of the ebRS 3.0 / XDS.b messages, as the XDS and XCA endpoints serve them
//! beside their WSDLs (`<endpoint>?xsd=<name>`). They are this project's own description of the
//! messages the node takes and sends (`wsdl/xsd/`), with the standards' names and namespaces.

use crate::soap::wsdl::Schema;

pub const XDS_SCHEMAS: &[Schema] = &[
    Schema {
        name: "rim.xsd",
        text: include_str!("../../wsdl/xsd/rim.xsd"),
    },
    Schema {
        name: "rs.xsd",
        text: include_str!("../../wsdl/xsd/rs.xsd"),
    },
    Schema {
        name: "query.xsd",
        text: include_str!("../../wsdl/xsd/query.xsd"),
    },
    Schema {
        name: "lcm.xsd",
        text: include_str!("../../wsdl/xsd/lcm.xsd"),
    },
    Schema {
        name: "XDS.b_DocumentRepository.xsd",
        text: include_str!("../../wsdl/xsd/XDS.b_DocumentRepository.xsd"),
    },
    Schema {
        name: "XDS.b_DocumentRecipient.xsd",
        text: include_str!("../../wsdl/xsd/XDS.b_DocumentRecipient.xsd"),
    },
    Schema {
        name: "rmd.xsd",
        text: include_str!("../../wsdl/xsd/rmd.xsd"),
    },
];
