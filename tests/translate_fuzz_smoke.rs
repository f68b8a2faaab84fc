//! A deterministic mutation pass over the reference inputs (bit flips, truncations, splices, byte
//! insertions): every parser answers with a document or an error, never a panic.

mod cda;

use ncpeh::translate::{ed_to_m10, eresept_to_ep, ips_to_ps, pivot_to_nb, PsOptions, Terminology};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut v = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        match rng.below(5) {
            0 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] ^= 1 << rng.below(8);
            }
            1 => v.truncate(rng.below(v.len() + 1)),
            2 if v.len() > 2 => {
                let a = rng.below(v.len());
                let b = rng.below(v.len());
                let (a, b) = (a.min(b), a.max(b));
                let chunk = v[a..b].to_vec();
                let at = rng.below(v.len());
                v.splice(at..at, chunk);
            }
            3 => {
                let at = rng.below(v.len() + 1);
                let junk: &[u8] = [
                    &b"<"[..],
                    b">",
                    b"\"",
                    b"&",
                    b"{",
                    b"}",
                    b"]",
                    b"\xff",
                    b"<!DOCTYPE a>",
                    b"&#0;",
                    b"null",
                ][rng.below(11)];
                v.splice(at..at, junk.iter().copied());
            }
            _ if !v.is_empty() => {
                let i = rng.below(v.len());
                v.remove(i);
            }
            _ => {}
        }
    }
    v
}

#[test]
fn mutated_reference_inputs_never_panic() {
    let Some(shared) = cda::shared() else {
        return;
    };
    let term = Terminology::builtin();
    let mut seeds: Vec<(usize, Vec<u8>)> = Vec::new();
    for (kind, dir) in [
        (0, "reference/ips"),
        (1, "reference/norway/eresept"),
        (2, "reference/ehdsi/pivot-ed"),
        (3, "reference/ehdsi/pivot-ps"),
    ] {
        for e in std::fs::read_dir(shared.join(dir)).unwrap().flatten() {
            let p = e.path();
            let ok = match kind {
                0 => p.extension().is_some_and(|x| x == "json"),
                1 => p
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("M1_")),
                _ => p.extension().is_some_and(|x| x == "xml"),
            };
            if ok {
                seeds.push((kind, std::fs::read(&p).unwrap()));
            }
        }
    }
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let rounds: usize = std::env::var("NCPEH_FUZZ_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(150);
    for (kind, seed) in &seeds {
        for _ in 0..rounds {
            let input = mutate(&mut rng, seed);
            match kind {
                0 => {
                    let _ = ips_to_ps(
                        &input,
                        term,
                        &PsOptions {
                            l1: true,
                            ..Default::default()
                        },
                    );
                }
                1 => {
                    let _ = eresept_to_ep(&input, term, &Default::default());
                }
                _ => {
                    let _ = ed_to_m10(&input, term);
                    let _ = pivot_to_nb(&input, term);
                }
            }
        }
    }
}
