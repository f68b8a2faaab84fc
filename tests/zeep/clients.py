"""SOAP clients built by Python zeep from the WSDLs the node serves, over mutual TLS.

Run by tests/wsdl_zeep.rs with one argument, a JSON file of inputs (base URL, CA, client
certificate and key, the patient, metadata files written by the Rust test). Each call goes
through zeep's typed schema both ways: the request is built from Python values (or, for the
metadata of ITI-41/42, parsed by zeep from XML into its own objects first), and the answer is read
by zeep under the served schemas. Every answer is checked here; the last line printed is a JSON
summary that the Rust test checks again.
"""

import json
import sys

import requests
from lxml import etree
from zeep import Client, Plugin, Settings
from zeep.transports import Transport
from zeep.wsa import WsAddressingPlugin

SUCCESS = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success"
FAILURE = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Failure"
APPROVED = "urn:oasis:names:tc:ebxml-regrep:StatusType:Approved"
FIND_DOCUMENTS = "urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d"
DE_UNIQUE_ID = "urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab"
LCM = "urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0"
XDSB = "urn:ihe:iti:xds-b:2007"
HL7 = "{urn:hl7-org:v3}"


SOAP12_BODY = "{http://www.w3.org/2003/05/soap-envelope}Body"
# The schema file that declares each message's root element (wsdl/xsd/).
SCHEMA_OF = {
    "{urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0}RegistryResponse": "rs.xsd",
    "{urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0}AdhocQueryRequest": "query.xsd",
    "{urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0}AdhocQueryResponse": "query.xsd",
    "{urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0}SubmitObjectsRequest": "lcm.xsd",
    f"{{{XDSB}}}ProvideAndRegisterDocumentSetRequest": "XDS.b_DocumentRepository.xsd",
    f"{{{XDSB}}}RetrieveDocumentSetRequest": "XDS.b_DocumentRepository.xsd",
    f"{{{XDSB}}}RetrieveDocumentSetResponse": "XDS.b_DocumentRepository.xsd",
    HL7 + "PRPA_IN201305UV02": "PRPA_IN201305UV02.xsd",
    HL7 + "PRPA_IN201306UV02": "PRPA_IN201306UV02.xsd",
}


class Validate(Plugin):
    """Checks every message body zeep sends and receives with lxml against the node's schemas:
    a strict XSD validation besides zeep's own reading (which lets unknown attributes pass)."""

    def __init__(self, xsd_dir):
        self.xsd_dir = xsd_dir
        self.schemas = {}
        self.checked = []
        self.problems = []

    def _check(self, envelope, way):
        body = envelope.find(SOAP12_BODY)
        if body is None or len(body) == 0:
            self.problems.append(f"{way}: no SOAP 1.2 body")
            return
        root = body[0]
        name = SCHEMA_OF.get(root.tag)
        if name is None:
            self.problems.append(f"{way}: no schema for {root.tag}")
            return
        if name not in self.schemas:
            self.schemas[name] = etree.XMLSchema(etree.parse(f"{self.xsd_dir}/{name}"))
        schema = self.schemas[name]
        if not schema.validate(etree.fromstring(etree.tostring(root))):
            errors = "; ".join(str(e) for e in list(schema.error_log)[:5])
            self.problems.append(f"{way} {root.tag}: {errors}")
        self.checked.append(f"{way} {etree.QName(root).localname}")

    def egress(self, envelope, http_headers, operation, binding_options):
        self._check(envelope, "sent")
        return envelope, http_headers

    def ingress(self, envelope, http_headers, operation):
        self._check(envelope, "received")
        return envelope, http_headers


def check(cond, what, got=None):
    if not cond:
        raise AssertionError(f"{what}: got {got!r}")


def client(inputs, path, validate):
    """A zeep client from `<base><path>?wsdl`, with the dev client certificate."""
    session = requests.Session()
    session.cert = (inputs["cert"], inputs["key"])
    session.verify = inputs["ca"]
    # requests would let REQUESTS_CA_BUNDLE (or a proxy setting) override this session.
    session.trust_env = False
    return Client(
        inputs["base"] + path + "?wsdl",
        transport=Transport(session=session, timeout=30, operation_timeout=60),
        plugins=[WsAddressingPlugin(), validate],
        settings=Settings(strict=True),
    )


def error_codes(response):
    errors = response.RegistryErrorList
    return [e.errorCode for e in errors.RegistryError] if errors is not None else []


def objects(answer):
    """(element name, object) of each entry of an AdhocQueryResponse's RegistryObjectList."""
    out = []
    for choice in answer.RegistryObjectList._value_1 or []:
        for name, obj in choice.items():
            if obj is not None:
                out.append((name, obj))
    return out


def submit_objects(c, path):
    """lcm:SubmitObjectsRequest read from XML into zeep's objects, as keyword arguments."""
    element = c.get_element(f"{{{LCM}}}SubmitObjectsRequest")
    value = element.parse(etree.parse(path).getroot(), c.wsdl.types)
    return {k: value[k] for k in value}


def find_documents(svc_call, inputs):
    return svc_call(
        ResponseOption={"returnType": "LeafClass", "returnComposedObjects": True},
        AdhocQuery={
            "id": FIND_DOCUMENTS,
            "Slot": [
                {
                    "name": "$XDSDocumentEntryPatientId",
                    "ValueList": {"Value": [f"'{inputs['pid']}'"]},
                },
                {
                    "name": "$XDSDocumentEntryStatus",
                    "ValueList": {"Value": [f"('{APPROVED}')"]},
                },
            ],
        },
    )


def unique_ids(answer):
    ids = []
    for name, obj in objects(answer):
        if name == "ExtrinsicObject":
            ids += [
                x.value
                for x in obj.ExternalIdentifier
                if x.identificationScheme == DE_UNIQUE_ID
            ]
    return sorted(ids)


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        inputs = json.load(f)
    summary = {}
    validate = Validate(inputs["xsd_dir"])

    # ITI-41 Provide and Register on the repository, the document inline as base64Binary.
    repo = client(inputs, "/xds/repository", validate)
    content = inputs["provided_content"].encode()
    r = repo.service["DocumentRepository_ProvideAndRegisterDocumentSet-b"](
        SubmitObjectsRequest=submit_objects(repo, inputs["provide"]),
        Document=[{"id": "Document01", "_value_1": content}],
    )
    check(r.status == SUCCESS, "ITI-41 status", (r.status, error_codes(r)))
    summary["iti41"] = {"status": r.status}

    # ITI-42 Register on the registry.
    reg = client(inputs, "/xds/registry", validate)
    r = reg.service["DocumentRegistry_RegisterDocumentSet-b"](
        **submit_objects(reg, inputs["register"])
    )
    check(r.status == SUCCESS, "ITI-42 status", (r.status, error_codes(r)))
    summary["iti42"] = {"status": r.status}

    # ITI-18 FindDocuments: both documents, as ExtrinsicObjects with their uniqueIds.
    r = find_documents(reg.service.DocumentRegistry_RegistryStoredQuery, inputs)
    check(r.status == SUCCESS, "ITI-18 status", (r.status, error_codes(r)))
    names = sorted({n for n, _ in objects(r)})
    check(names == ["ExtrinsicObject"], "ITI-18 object kinds", names)
    ids = unique_ids(r)
    want = sorted([inputs["provided_uid"], inputs["registered_uid"]])
    check(ids == want, "ITI-18 uniqueIds", ids)
    summary["iti18"] = {"status": r.status, "unique_ids": ids}

    # ITI-43 Retrieve: the document of ITI-41 (the answer is MTOM; zeep resolves xop:Include).
    r = repo.service.DocumentRepository_RetrieveDocumentSet(
        DocumentRequest=[
            {
                "RepositoryUniqueId": inputs["repository"],
                "DocumentUniqueId": inputs["provided_uid"],
            }
        ]
    )
    status = r.RegistryResponse.status
    check(status == SUCCESS, "ITI-43 status", (status, error_codes(r.RegistryResponse)))
    docs = r.DocumentResponse
    check(len(docs) == 1, "ITI-43 documents", len(docs))
    d = docs[0]
    check(d.DocumentUniqueId == inputs["provided_uid"], "ITI-43 uid", d.DocumentUniqueId)
    check(d.mimeType == "text/plain", "ITI-43 mimeType", d.mimeType)
    check(d.Document == content, "ITI-43 content", d.Document)
    summary["iti43"] = {"status": status, "content": d.Document.decode()}

    # ITI-43 for a document the repository does not hold: Failure, XDSDocumentUniqueIdError.
    r = repo.service.DocumentRepository_RetrieveDocumentSet(
        DocumentRequest=[
            {"RepositoryUniqueId": inputs["repository"], "DocumentUniqueId": "1.2.3.999"}
        ]
    )
    codes = error_codes(r.RegistryResponse)
    check(r.RegistryResponse.status == FAILURE, "ITI-43 unknown status", r.RegistryResponse.status)
    check(codes == ["XDSDocumentUniqueIdError"], "ITI-43 unknown codes", codes)
    check(not r.DocumentResponse, "ITI-43 unknown documents", r.DocumentResponse)
    summary["iti43_unknown"] = {"status": r.RegistryResponse.status, "error_codes": codes}

    # ITI-38 Cross Gateway Query on the responding gateway: every object names our community.
    xca = client(inputs, "/xca", validate)
    r = find_documents(xca.service.RespondingGateway_CrossGatewayQuery, inputs)
    check(r.status == SUCCESS, "ITI-38 status", (r.status, error_codes(r)))
    homes = sorted({o.home for _, o in objects(r)})
    check(homes == [inputs["home"]], "ITI-38 home", homes)
    check(unique_ids(r) == want, "ITI-38 uniqueIds", unique_ids(r))
    summary["iti38"] = {"status": r.status, "homes": homes}

    # ITI-55 on the XCPD responding gateway: the HL7 v3 interaction rides in the open content.
    xcpd = client(inputs, "/xcpd", validate)
    query = etree.parse(inputs["xcpd"]).getroot()
    r = xcpd.service.RespondingGateway_PRPA_IN201305UV02(
        _value_1=list(query), ITSVersion=query.get("ITSVersion")
    )
    body = etree.Element(HL7 + "PRPA_IN201306UV02")
    body.extend(r._value_1)
    ack = body.find(f"{HL7}acknowledgement/{HL7}typeCode")
    check(ack is not None and ack.get("code") == "AA", "ITI-55 acknowledgement", etree.tostring(body)[:400])
    qr = body.find(f".//{HL7}queryAck/{HL7}queryResponseCode")
    check(qr is not None and qr.get("code") == "OK", "ITI-55 queryResponseCode", qr)
    pid = body.find(f".//{HL7}subject/{HL7}registrationEvent/{HL7}subject1/{HL7}patient/{HL7}id")
    check(pid is not None, "ITI-55 patient id", etree.tostring(body)[:600])
    check(pid.get("extension") == inputs["fnr"], "ITI-55 patient", pid.get("extension"))
    summary["iti55"] = {"ack": ack.get("code"), "patient": pid.get("extension")}

    check(not validate.problems, "schema validation", validate.problems)
    check(len(validate.checked) == 14, "messages validated", validate.checked)
    summary["validated"] = len(validate.checked)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
