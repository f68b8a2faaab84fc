//! Who is on the other end, and what they may do: XUA assertions, access policy, consent.
//! (The certificate identity a connection gives is read in `pki`.)
