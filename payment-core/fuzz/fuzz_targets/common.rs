//! Stand-ins for the crypto so that the fuzzer reaches the parsers behind the signature checks.
//! (With real keys, random input never gets past verification and the parsing code stays unfuzzed;
//! verification itself is covered by the known-answer and tamper tests.)

use payment_core::crypto::{AesGcm, RsaVerifier};
use payment_core::Result;

/// Accepts every signature.
pub struct AcceptAll;

impl RsaVerifier for AcceptAll {
    async fn verify(&self, _message: &[u8], _signature: &[u8]) -> Result<()> {
        Ok(())
    }
}

/// "Decrypts" by returning the ciphertext unchanged.
pub struct Identity;

impl AesGcm for Identity {
    async fn encrypt(&self, _nonce: &[u8; 12], _aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>> {
        Ok(plaintext.to_vec())
    }
    async fn decrypt(&self, _nonce: &[u8; 12], _aad: &[u8], ciphertext: &[u8]) -> Result<Vec<u8>> {
        Ok(ciphertext.to_vec())
    }
}
