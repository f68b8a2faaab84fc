//! XCA responding gateway (ITI-38) over mTLS: every object names our community; requests
//! for no or another community get the XCA error codes.

mod common;
use common::answer::{self, FAILURE, SUCCESS};
use common::meta::{self, Doc};
use common::{new_pid, schema, TestNode};
use ncpeh::ids::action::REGISTER;
use ncpeh::ids::action::{XC_QUERY, XC_RETRIEVE};
use ncpeh::registry::query as sq;

const HOME: &str = "urn:oid:2.16.578.1.12.4.5.10.1";

fn with_home(q: &str, home: &str) -> String {
    q.replacen(
        "<rim:AdhocQuery id=",
        &format!("<rim:AdhocQuery home=\"{home}\" id="),
        1,
    )
}

#[tokio::test]
async fn cross_gateway_query_names_our_community() {
    let node = TestNode::start();
    let pid = new_pid();
    node.add_patient(&pid);
    let doc = Doc::new("D", &pid);
    let r = node
        .call(
            "/xds/registry",
            REGISTER,
            &meta::simple_submission(&pid, std::slice::from_ref(&doc)),
        )
        .await;
    assert_eq!(answer::status(&r.body), SUCCESS);

    let q = meta::query(
        sq::FIND_DOCUMENTS,
        true,
        &[
            ("$XDSDocumentEntryPatientId", &format!("'{pid}'")),
            (
                "$XDSDocumentEntryStatus",
                "('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')",
            ),
        ],
    );
    let r = node.call("/xca", XC_QUERY, &q).await;
    assert_eq!(
        r.action.as_deref(),
        Some("urn:ihe:iti:2007:CrossGatewayQueryResponse")
    );
    assert_eq!(answer::status(&r.body), SUCCESS);
    schema::validate(&schema::to_xml(&r.body), "query.xsd").expect("valid AdhocQueryResponse");
    let list = r
        .body
        .child(answer::RIM, "RegistryObjectList")
        .expect("list");
    let objs: Vec<_> = list.elements().collect();
    assert_eq!(objs.len(), 1);
    assert!(
        objs.iter().all(|o| o.attr("home") == Some(HOME)),
        "every object carries home"
    );

    // By id without homeCommunityId: XDSMissingHomeCommunityId; another community: XDSUnknownCommunity.
    let by_id = meta::query(
        sq::GET_DOCUMENTS,
        true,
        &[("$XDSDocumentEntryUniqueId", &format!("('{}')", doc.uid))],
    );
    let r = node.call("/xca", XC_QUERY, &by_id).await;
    assert_eq!(answer::status(&r.body), FAILURE);
    assert_eq!(
        answer::error_codes(&r.body),
        vec!["XDSMissingHomeCommunityId".to_string()]
    );
    let r = node
        .call("/xca", XC_QUERY, &with_home(&by_id, "urn:oid:1.2.3.4"))
        .await;
    assert_eq!(
        answer::error_codes(&r.body),
        vec!["XDSUnknownCommunity".to_string()]
    );
    let r = node.call("/xca", XC_QUERY, &with_home(&by_id, HOME)).await;
    assert_eq!(answer::unique_ids(&r.body), vec![doc.uid.clone()]);
}

#[tokio::test]
async fn cross_gateway_retrieve_checks_the_community_of_each_request() {
    let node = TestNode::start();
    let body = format!(
        "<xdsb:RetrieveDocumentSetRequest xmlns:xdsb=\"urn:ihe:iti:xds-b:2007\">\
         <xdsb:DocumentRequest><xdsb:RepositoryUniqueId>2.16.578.1.12.4.5.10.1.1</xdsb:RepositoryUniqueId><xdsb:DocumentUniqueId>1.2.3</xdsb:DocumentUniqueId></xdsb:DocumentRequest>\
         <xdsb:DocumentRequest><xdsb:HomeCommunityId>urn:oid:9.9.9</xdsb:HomeCommunityId><xdsb:RepositoryUniqueId>2.16.578.1.12.4.5.10.1.1</xdsb:RepositoryUniqueId><xdsb:DocumentUniqueId>1.2.4</xdsb:DocumentUniqueId></xdsb:DocumentRequest>\
         <xdsb:DocumentRequest><xdsb:HomeCommunityId>{HOME}</xdsb:HomeCommunityId><xdsb:RepositoryUniqueId>2.16.578.1.12.4.5.10.1.1</xdsb:RepositoryUniqueId><xdsb:DocumentUniqueId>1.2.5</xdsb:DocumentUniqueId></xdsb:DocumentRequest>\
         </xdsb:RetrieveDocumentSetRequest>"
    );
    let r = node.call("/xca", XC_RETRIEVE, &body).await;
    let rr = r
        .body
        .child(answer::RS, "RegistryResponse")
        .expect("RegistryResponse");
    assert_eq!(answer::status(rr), FAILURE);
    let mut codes = answer::error_codes(rr);
    codes.sort();
    assert_eq!(
        codes,
        vec![
            "XDSDocumentUniqueIdError",
            "XDSMissingHomeCommunityId",
            "XDSUnknownCommunity"
        ]
    );
}
