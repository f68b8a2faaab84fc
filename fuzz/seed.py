#!/usr/bin/env python3
"""Gathers raw seed inputs for every fuzz target into OUT/<target>/ (one file per input).

Sources: the NIST testkit and reference/ under ../shared, plus messages made here in the shapes
the node's own tests use (SOAP envelopes around testkit bodies, MTOM bodies, MLLP streams, HL7 v2
variants), and the assertions `fuzz/seed.sh` issued with `ncpeh xua issue` (ISSUED/).
`cargo fuzz cmin` then keeps the few that reach distinct code; only those are committed.

usage: seed.py SHARED OUT [ISSUED]
"""
import hashlib
import json
import pathlib
import re
import sys

shared = pathlib.Path(sys.argv[1])
out = pathlib.Path(sys.argv[2])
issued = pathlib.Path(sys.argv[3]) if len(sys.argv) > 3 else None
testkit = shared / "conformance" / "nist-testkit"
ref = shared / "reference"
# Bigger seeds only slow the fuzzer down; cmin would drop most of them anyway.
MAX_SEED = 256 * 1024


def put(target, data):
    if isinstance(data, str):
        data = data.encode()
    if len(data) > MAX_SEED:
        return
    d = out / target
    d.mkdir(parents=True, exist_ok=True)
    (d / hashlib.sha1(data).hexdigest()).write_bytes(data)


def files(root, pattern="*.xml"):
    return sorted(p for p in root.rglob(pattern) if p.is_file())


SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
WSA = "http://www.w3.org/2005/08/addressing"


def envelope(action, body, header_extra=""):
    body = re.sub(r"^\s*<\?xml[^>]*\?>", "", body)
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="{SOAP12}" xmlns:a="{WSA}">'
        f"<s:Header><a:Action s:mustUnderstand=\"1\">{action}</a:Action>"
        f"<a:MessageID>urn:uuid:0f5e2a1c-9c3b-4d0e-8a1f-3b2c1d0e9f8a</a:MessageID>"
        f"<a:To>https://localhost/xds</a:To>{header_extra}</s:Header><s:Body>{body}</s:Body></s:Envelope>"
    )


ACTIONS = {
    "SubmitObjectsRequest": "urn:ihe:iti:2007:RegisterDocumentSet-b",
    "ProvideAndRegisterDocumentSetRequest": "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b",
    "AdhocQueryRequest": "urn:ihe:iti:2007:RegistryStoredQuery",
    "RetrieveDocumentSetRequest": "urn:ihe:iti:2007:RetrieveDocumentSet",
    "PRPA_IN201305UV02": "urn:hl7-org:v3:PRPA_IN201305UV02:CrossGatewayPatientDiscovery",
}


def root_name(text):
    m = re.search(r"<(?:[\w.-]+:)?([\w.-]+)[\s>/]", re.sub(r"<\?.*?\?>|<!--.*?-->", "", text, flags=re.S))
    return m.group(1) if m else None


# --- XML of every kind: the testkit's request bodies and the reference documents.
testkit_xml = [p for p in files(testkit) if p.stat().st_size <= MAX_SEED]
by_root = {}
for p in testkit_xml:
    text = p.read_text(errors="replace")
    by_root.setdefault(root_name(text), []).append((p, text))

for name in ("SubmitObjectsRequest", "ProvideAndRegisterDocumentSetRequest", "AdhocQueryRequest",
             "RetrieveDocumentSetRequest", "RemoveObjectsRequest", "TestResults"):
    for p, text in by_root.get(name, []):
        put("xml_dom", text)
        if name in ("SubmitObjectsRequest", "ProvideAndRegisterDocumentSetRequest"):
            put("ebrim", text)
        if name in ACTIONS:
            put("soap_request", envelope(ACTIONS[name], text))

for p in files(ref / "norway") + files(ref / "ehdsi", "*.xml"):
    text = p.read_text(errors="replace")
    put("xml_dom", text)
    if root_name(text) == "ProvideAndRegisterDocumentSetRequest" or "SubmitObjectsRequest" in text[:4000]:
        put("ebrim", text)
put("ebrim", (ref / "norway" / "xds-profile" / "example-PnR_request.xml").read_bytes())

# --- MTOM: the first line is the Content-Type, the rest the multipart body.
def mtom(boundary, parts, start="<root@ncpeh>", quoted=True):
    b = f'"{boundary}"' if quoted else boundary
    ct = (f'multipart/related; type="application/xop+xml"; boundary={b}; start="{start}"; '
          f'start-info="application/soap+xml; action=\\"urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b\\""')
    body = b""
    for cid, ctype, data in parts:
        body += (f"--{boundary}\r\nContent-Type: {ctype}\r\nContent-Transfer-Encoding: binary\r\n"
                 f"Content-ID: {cid}\r\n\r\n").encode() + data + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    return ct.encode() + b"\n" + body


pnr = [t for _, t in by_root.get("ProvideAndRegisterDocumentSetRequest", [])][:3]
for i, text in enumerate(pnr):
    xop = re.sub(r"(<(?:[\w]+:)?Document\b[^>]*>)[^<]*(</)",
                 r'\1<xop:Include xmlns:xop="http://www.w3.org/2004/08/xop/include" href="cid:doc1@ncpeh"/>\2',
                 text, count=1)
    soap = envelope(ACTIONS["ProvideAndRegisterDocumentSetRequest"], xop).encode()
    put("mtom", mtom(f"MIMEBoundary_{i}", [
        ("<root@ncpeh>", 'application/xop+xml; charset=UTF-8; type="application/soap+xml"', soap),
        ("<doc1@ncpeh>", "text/xml", b"<ClinicalDocument xmlns=\"urn:hl7-org:v3\"/>"),
    ]))
put("mtom", mtom("b", [("<root@ncpeh>", "application/xop+xml", b"<a/>")], quoted=False))
put("mtom", mtom("uuid:6b62cda9-9d5f-4e7d-8c1c-1b2f0e5a7c3d", [
    ("<root@ncpeh>", "application/xop+xml", envelope(ACTIONS["RetrieveDocumentSetRequest"], "<x/>").encode()),
    ("<1.urn:uuid:1@apache.org>", "application/octet-stream", bytes(range(256))),
    ("<2.urn:uuid:2@apache.org>", "application/pdf", b"%PDF-1.4\n%%EOF"),
], start="<root@ncpeh>"))
put("mtom", b"application/soap+xml; charset=UTF-8\n" + envelope("urn:x", "<a/>").encode())

# --- Stored-query parameter values (and, after a NUL, LIKE pattern and value).
for v in ["'1^^^&1.2&ISO'", "('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')",
          "('a','b', 'c''d')", "(1,2,3)", "20040101", "('%')", "'urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1'",
          "('Tor%'_)", "%a_b\\%\0a_b%", "Nord%\0Nordmann", "_\0x", "((''))", "('a' OR 'b')"]:
    put("stored_query_params", v)

# --- HL7 v2: the testkit's A01 and variants the feed tests use; MLLP streams of them.
a01 = (testkit / "A01.txt").read_text().replace("$pid$", "21014605158^^^&2.16.578.1.12.4.1.4.1&ISO")
a01 = a01.replace("\r\n", "\r").replace("\n", "\r")
hl7 = [
    a01,
    a01.replace("ADT^A01", "ADT^A04"),
    a01.replace("ADT^A01", "ADT^A08"),
    a01.replace("ADT^A01", "ADT^A40") + "MRG|123^^^&1.2&ISO\r",
    a01.replace("ADT^A01", "ORU^R01"),
    "MSH|^~\\&|SRC|FAC|NCPEH|NO|20250101||ADT^A01^ADT_A01|C1|P|2.5\rEVN|A01|20250101\r"
    "PID|||13116900216^^^&2.16.578.1.12.4.1.4.1&ISO~X1^^^&1.2.3&L||NORDMANN&van^KARI^M||19691113|F\r",
    "MSH#!*$%#SRC#FAC#NCPEH#NO#20250101##ADT!A04!ADT_A01#C1#P#2.5\r"
    "PID###1$F$2!!!$T$1.2.3$T$ISO##Nord$S$mann!Kari##19460121#F\r",
    "MSH|^~\\&#|SRC||||20250101||ADT^A08|C2|P|2.7\nPID|||41014600216^^^&2.16.578.1.12.4.1.4.2&ISO||\\E\\Test\\X0D\\^\"\"||2001\n",
    "MSH|^~\\&|A|B|C|D|E||ADT^A01|1\rPID|||\\",
]
latin1 = ("MSH|^~\\&|SRC|FAC|NCPEH|NO|20250101||ADT^A01|L1|P|2.3\rPID|||1^^^&1.2&ISO||"
          "S\u00f8rensen^\u00c5se\r").encode("latin-1")
for m in hl7:
    put("hl7v2", m)
put("hl7v2", latin1)
for i, m in enumerate(hl7[:6] + [latin1.decode("latin-1")]):
    raw = m.encode("latin-1", errors="replace")
    put("mllp", bytes([i * 37 % 256]) + b"\x0b" + raw + b"\x1c\r")
put("mllp", b"\xff\r\n\x0b" + hl7[0].encode() + b"\x1c\r\x0b" + hl7[2].encode() + b"\x1c\r")
put("mllp", b"\x03\x0bMSH|^~\\&|a\x1cX")

# --- XCPD: the testkit query, and the shape the node's tests send.
for p, text in by_root.get("PRPA_IN201305UV02", []):
    put("xcpd", text)
    put("xml_dom", text)
    put("soap_request", envelope(ACTIONS["PRPA_IN201305UV02"], text))
put("xcpd", '<PRPA_IN201305UV02 xmlns="urn:hl7-org:v3" ITSVersion="XML_1.0"><id root="1.2" extension="m"/>'
    '<interactionId root="2.16.840.1.113883.1.6" extension="PRPA_IN201305UV02"/>'
    '<receiver><device><id root="2.16.578.1.12.4.5.10.1"/></device></receiver>'
    '<sender><device><id root="2.16.752.1.2.3"/></device></sender>'
    '<controlActProcess><queryByParameter><queryId root="1" extension="q"/><parameterList>'
    '<livingSubjectAdministrativeGender><value code="F"/></livingSubjectAdministrativeGender>'
    '<livingSubjectBirthTime><value value="19460121"/></livingSubjectBirthTime>'
    '<livingSubjectId><value root="2.16.578.1.12.4.1.4.1" extension="21014605158"/></livingSubjectId>'
    '<livingSubjectName><value><given>Kari</given><family>Nordmann</family></value></livingSubjectName>'
    '</parameterList></queryByParameter></controlActProcess></PRPA_IN201305UV02>')

# --- SAML: the eHDSI reference assertions and what `ncpeh xua issue` made.
saml = [p.read_text(errors="replace") for p in files(ref / "ehdsi" / "saml")]
if issued:
    saml += [p.read_text() for p in files(issued)]
for text in saml:
    put("saml_assertion", text)
    put("xua", text)
    put("xml_dom", text)

# --- Translator inputs.
for p in files(ref / "ips", "*.json") + files(pathlib.Path(__file__).parent.parent / "tests" / "data", "*.json"):
    put("ips_to_ps", p.read_bytes())
for p in files(ref / "norway" / "eresept"):
    put("eresept_to_ep", p.read_bytes())
for p in files(ref / "ehdsi" / "pivot-ed"):
    put("ed_to_m10", p.read_bytes())
for sub in ("pivot-ps", "pivot-ep", "pivot-ed"):
    for p in files(ref / "ehdsi" / sub):
        put("pivot_to_nb", p.read_bytes())
        put("pivot_to_html", p.read_bytes())
for p in files(ref / "ehdsi" / "pivot-orcd"):
    put("pivot_to_html", p.read_bytes())
hcer_dir = pathlib.Path(__file__).parent.parent / "tests" / "data" / "hcer"
for p in files(hcer_dir):
    put("hcer", p.read_bytes())
    put("pivot_to_html", p.read_bytes())
# journal_to_orcd: one byte for the class, then the document.
journals = [ref / "norway" / "kith" / "epikrise_v1.2_m.xml",
            ref / "norway" / "xds-profile" / "CDA_Level1_Document01.xml",
            pathlib.Path(__file__).parent.parent / "tests" / "data" / "kith" / "svarrapport-v1.4.xml"]
for i, p in enumerate(journals):
    if p.exists():
        put("journal_to_orcd", bytes([i]) + p.read_bytes())

# --- MHD: the MHD testkit's bodies (STU3, mostly refused), R4 Bundles of the IPS references, and
# ITI-65 Bundles in the shape tests/mhd.rs sends, in JSON and in XML; '?' starts an ITI-67/66 query.
for p in files(shared / "conformance" / "nist-mhd"):
    put("mhd", p.read_bytes())
for p in files(ref / "ips", "*.json"):
    put("mhd", p.read_bytes())

FNR = "2.16.578.1.12.4.1.4.1"


def iti65(kind="List", relates=False, inline=False):
    pid = {"reference": f"Patient/{FNR}-13116900216"}
    dr = {"resourceType": "DocumentReference",
          "contained": [{"resourceType": "Practitioner", "id": "a1",
                         "name": [{"family": "Hansen", "given": ["Ola"]}]},
                        {"resourceType": "Patient", "id": "p1",
                         "identifier": [{"system": f"urn:oid:{FNR}", "value": "13116900216"}],
                         "gender": "female", "birthDate": "1980-02-03"}],
          "masterIdentifier": {"system": "urn:ietf:rfc:3986", "value": "urn:oid:1.2.3.4.5"},
          "status": "current",
          "type": {"coding": [{"system": "http://loinc.org", "code": "34133-9"}]},
          "category": [{"coding": [{"system": "http://loinc.org", "code": "11488-4"}]}],
          "subject": pid, "author": [{"reference": "#a1"}]}
    if relates:
        dr["relatesTo"] = [{"code": "replaces", "target": {"reference": "DocumentReference/5c5d4f12-0003-4bcd-9e3a-000000000003"}}]
    att = {"contentType": "text/plain", "language": "nb-NO"}
    if inline:
        att["data"] = "aGVp"
    else:
        att["url"] = "urn:uuid:5c5d4f12-0001-4bcd-9e3a-000000000001"
    att["creation"] = "2024-01-15T10:30:00+01:00"
    dr["securityLabel"] = [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "N"}]}]
    dr["content"] = [{"attachment": att,
                      "format": {"system": "urn:oid:1.3.6.1.4.1.19376.1.2.3", "code": "urn:ihe:iti:xds:2017:mimeTypeSufficient"}}]
    dr["context"] = {"period": {"start": "2024-01-01"},
                     "facilityType": {"coding": [{"system": "http://snomed.info/sct", "code": "35971002"}]},
                     "practiceSetting": {"coding": [{"system": "http://snomed.info/sct", "code": "394802001"}]},
                     "sourcePatientInfo": {"reference": "#p1"}}
    doc_url = "urn:uuid:5c5d4f12-0002-4bcd-9e3a-000000000002"
    if kind == "List":
        subset = {"resourceType": "List",
                  "extension": [{"url": "https://profiles.ihe.net/ITI/MHD/StructureDefinition/ihe-sourceId",
                                 "valueIdentifier": {"value": "urn:oid:2.16.578.1.12.4.5.100.1"}}],
                  "identifier": [{"use": "usual", "system": "urn:ietf:rfc:3986", "value": "urn:oid:1.2.3.4.6"}],
                  "status": "current", "mode": "working",
                  "code": {"coding": [{"system": "https://profiles.ihe.net/ITI/MHD/CodeSystem/MHDlistTypes", "code": "submissionset"}]},
                  "subject": pid, "date": "2024-01-15T10:31:00+01:00",
                  "entry": [{"item": {"reference": doc_url}}]}
    else:
        subset = {"resourceType": "DocumentManifest",
                  "masterIdentifier": {"value": "urn:oid:1.2.3.4.6"}, "status": "current",
                  "subject": pid, "created": "2024-01-15T10:31:00+01:00",
                  "source": "urn:oid:2.16.578.1.12.4.5.100.1", "content": [{"reference": doc_url}]}
    entries = [{"fullUrl": "urn:uuid:5c5d4f12-0000-4bcd-9e3a-000000000000", "resource": subset,
                "request": {"method": "POST", "url": kind}},
               {"fullUrl": doc_url, "resource": dr, "request": {"method": "POST", "url": "DocumentReference"}}]
    if not inline:
        entries.append({"fullUrl": "urn:uuid:5c5d4f12-0001-4bcd-9e3a-000000000001",
                        "resource": {"resourceType": "Binary", "contentType": "text/plain", "data": "aGVp"},
                        "request": {"method": "POST", "url": "Binary"}})
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def fhir_xml(name, value):
    """FHIR JSON to FHIR XML: objects become elements, primitives value attributes, and a
    resource (an object with resourceType) is wrapped in an element of its type."""
    from xml.sax.saxutils import quoteattr
    if isinstance(value, list):
        return "".join(fhir_xml(name, v) for v in value)
    if isinstance(value, dict):
        on_tag = ("resourceType", "url") if name == "extension" else ("resourceType",)
        inner = "".join(fhir_xml(k, v) for k, v in value.items() if k not in on_tag)
        attr = f" url={quoteattr(value['url'])}" if name == "extension" else ""
        if "resourceType" in value:
            ns = ' xmlns="http://hl7.org/fhir"' if name is None else ""
            body = f"<{value['resourceType']}{ns}>{inner}</{value['resourceType']}>"
            return body if name is None else f"<{name}>{body}</{name}>"
        return f"<{name}{attr}>{inner}</{name}>"
    if isinstance(value, bool):
        value = "true" if value else "false"
    return f"<{name} value={quoteattr(str(value))}/>"


for b in (iti65(), iti65("DocumentManifest"), iti65(relates=True), iti65(inline=True)):
    put("mhd", json.dumps(b))
    put("mhd", fhir_xml(None, b))
for q in ["patient.identifier=urn:oid:2.16.578.1.12.4.1.4.1|13116900216&status=current",
          "patient=https://ncpeh.test/fhir/Patient/2.16.578.1.12.4.1.4.1-13116900216&status=current,superseded"
          "&category=http://loinc.org|11488-4&type=http://loinc.org|34133-9,http://loinc.org|11502-2"
          "&creation=ge2020-01-01&date=lt2025-01-01T00:00:00Z&period=gt2019&author.family=Hansen&author.given=Ola",
          "patient.identifier=urn:oid:2.16.578.1.12.4.1.4.1|13116900216&setting=http://snomed.info/sct|394802001"
          "&facility=x|y&event=a|b&security-label=c|N&format=urn:oid:1.3.6.1.4.1.19376.1.2.3|urn:x&identifier=urn:oid:1.2.3",
          "_id=urn:uuid:5c5d4f12-0002-4bcd-9e3a-000000000002",
          "patient.identifier=urn:oid:2.16.578.1.12.4.1.4.1|13116900216&code=folder&status=current",
          "patient.identifier=urn:oid:2.16.578.1.12.4.1.4.1|13116900216&code=submissionset&_format=xml",
          "patient=Patient/elsewhere&x-unknown=1&status=%zz"]:
    put("mhd", "?" + q)

for d in sorted(out.iterdir()):
    print(f"{d.name}: {sum(1 for _ in d.iterdir())} seeds")
