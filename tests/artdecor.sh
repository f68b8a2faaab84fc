#!/usr/bin/env bash
# The 2024 art-decor schematrons over every CDA document the node writes, made by its own CLI from
# the reference inputs: PS L3 and L1 from the IPS bundles, eP from the M1 prescriptions, and OrCD of
# each of the four classes from Norwegian journal documents (KITH epikrise and svarrapport, NHN's
# CDA L1, its PDF, a PNG). Prints one line per schematron; reports in target/test-output/artdecor/.
# Exit 1 when any document has an error. Usage: tests/artdecor.sh [NCPEH_BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-./target/debug/ncpeh}
shared=${NCPEH_SHARED:-$(cd .. && pwd)/shared}
py=${NCPEH_PYTHON:-$PWD/.venv/bin/python}
sch_dir="$shared/schemas/ehdsi-artdecor-20240422"
if [ ! -d "$sch_dir" ] || [ ! -x "$py" ]; then
  echo "SKIP art-decor: need $sch_dir and a Python with saxonche at $py"; exit 0
fi
out=target/test-output/artdecor
rm -rf "$out"; mkdir -p "$out"/{ps,ps-l1,ep,orcd-34105-7,orcd-11502-2,orcd-18748-4,orcd-x-clinical-image,in}

# Patient Summary, L3 and L1, from every IPS bundle the project knows.
for f in "$shared"/reference/ips/*.json tests/data/*.json; do
  n=$(basename "$f" .json)
  "$bin" translate ips-to-ps "$f" --l1 --out "$out/ps/$n.xml" 2>>"$out/warnings.txt"
  mv "$out/ps/$n.l1.xml" "$out/ps-l1/$n.xml"
done
# ePrescriptions from the M1 samples (one per prescription).
for f in "$shared"/reference/norway/eresept/M1_*.xml; do
  "$bin" translate eresept-to-ep "$f" --out "$out/ep/$(basename "$f")" 2>>"$out/warnings.txt"
done
# OrCD: the inputs a health trust registers. The PDF and the picture are cut out of the samples.
"$py" - "$shared" "$out/in" <<'PY'
import base64, re, sys
shared, into = sys.argv[1], sys.argv[2]
nhn = open(shared + "/reference/norway/xds-profile/CDA_Level1_Document01.xml", "rb").read().decode("utf-16")
pdf = re.search(r"<text[^>]*>([^<]+)</text>", nhn).group(1)
open(into + "/journal.pdf", "wb").write(base64.b64decode("".join(pdf.split())))
img = open(shared + "/reference/ehdsi/pivot-orcd/OrCD-x-clinical-image-W7.xml").read()
png = re.search(r'mediaType="image/png"[^>]*>([^<]+)<', img).group(1)
open(into + "/picture.png", "wb").write(base64.b64decode("".join(png.split())))
PY
# What the registry's metadata and patient index give the node, for sources that name nobody.
fnr="01017012345^^^&2.16.578.1.12.4.1.4.1&ISO"
who=(--patient-name "Nordmann^Kari" --birth-date 19700101 --gender F
     --author "9144900^Lin^Rita^^^^^^&2.16.578.1.12.4.1.4.4&ISO"
     --organisation "Sørlandet sykehus HF^^^^^&2.16.578.1.12.4.1.4.101&ISO^^^^983974899")
orcd() { "$bin" translate journal-to-orcd "$@" "${who[@]}" 2>>"$out/warnings.txt"; }
orcd "$shared/reference/norway/kith/epikrise_v1.2_m.xml" --out "$out/orcd-34105-7/kith-epikrise.xml"
orcd "$shared/reference/norway/xds-profile/CDA_Level1_Document01.xml" --class 34105-7 --out "$out/orcd-34105-7/nhn-cda-l1.xml"
orcd "$out/in/journal.pdf" --class 34105-7 --patient "$fnr" --out "$out/orcd-34105-7/pdf.xml"
orcd tests/data/kith/svarrapport-v1.4.xml --out "$out/orcd-11502-2/kith-svarrapport.xml"
orcd "$out/in/journal.pdf" --class 11502-2 --patient "$fnr" --out "$out/orcd-11502-2/pdf.xml"
orcd "$shared/reference/norway/xds-profile/CDA_Level1_Document01.xml" --class 11502-2 --out "$out/orcd-11502-2/nhn-cda-l1.xml"
orcd "$out/in/journal.pdf" --class 18748-4 --patient "$fnr" --out "$out/orcd-18748-4/pdf.xml"
orcd "$out/in/picture.png" --class x-clinical-image --patient "$fnr" --out "$out/orcd-x-clinical-image/png.xml"

# The schematron tool compiles into TMPDIR and reads value sets relative to it.
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
ln -s "$sch_dir/include" "$tmp/include"
failed=0
check() { # DIR SCHEMATRON
  local dir=$1 sch=$2 report="$out/$1.report.txt"
  if TMPDIR=$tmp "$py" "$shared/tools/schematron.py" "$sch_dir/$sch" "$out/$dir"/*.xml >"$report" 2>&1; then :; else failed=1; fi
  printf '%-24s %-44s %s; %s warnings\n' "$dir" "$sch" "$(tail -n 1 "$report")" "$(grep -c ': warning:' "$report" || true)"
}
echo "art-decor 2024-04-22 over the documents ncpeh writes (documents passed / failed):"
check ps epsos-PatientSummary.sch
check ps-l1 epsos-PatientSummary_L1.sch
check ep epsos-ePrescription.sch
check orcd-34105-7 epsos-OrCD_Hospital_Discharge_Report.sch
check orcd-11502-2 epsos-OrCD_Laboratory_Result.sch
check orcd-18748-4 epsos-OrCD_Medical_Imaging_Report.sch
check orcd-x-clinical-image epsos-OrCD_Medical_Images.sch
if [ "$failed" = 1 ]; then
  grep -h ': error:' "$out"/*.report.txt | cut -c1-300 | head -n 30
  exit 1
fi
