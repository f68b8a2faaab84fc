#!/usr/bin/env python3
"""Gathers raw seed inputs for every fuzz target into OUT/<target>/ (one file per input).

Sources: the NIST testkit and reference/ under ../shared, plus messages made here in the shapes
the node's own tests use (SOAP envelopes around testkit bodies, MTOM bodies, MLLP streams, HL7 v2
variants), and the assertions `fuzz/seed.sh` issued with `ncpeh xua issue` (ISSUED/).
`cargo fuzz cmin` then keeps the few that reach distinct code; only those are committed.

usage: seed.py SHARED OUT [ISSUED]
"""
import hashlib
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

for d in sorted(out.iterdir()):
    print(f"{d.name}: {sum(1 for _ in d.iterdir())} seeds")
