//! The sandbox's keys: the pretend merchant's and the pretend providers', all TEST ONLY.
//!
//! Generated on first start into the state folder (`keys.json`, mode 0600), loaded from there
//! afterwards, so the worker's configuration stays valid across restarts. `worker_config` prints
//! the worker settings that match, which is how the demo wires itself up.

use std::fs;
use std::io;
use std::path::Path;
use std::str::FromStr as _;
use std::time::Duration;

use der::pem::LineEnding;
use der::EncodePem as _;
use rand::rngs::OsRng;
use rand::{Rng as _, RngCore as _};
use rsa::pkcs8::{EncodePrivateKey as _, EncodePublicKey as _};
use serde::{Deserialize, Serialize};
use spki::SubjectPublicKeyInfoOwned;
use x509_cert::builder::{Builder as _, CertificateBuilder, Profile};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::Validity;

/// Everything the sandbox signs, verifies or decrypts with, and the ids that go with it.
#[derive(Clone, Serialize, Deserialize)]
pub struct KeysFile {
    /// A reminder for whoever opens the file.
    pub note: String,
    /// WeChat Pay: merchant and platform.
    pub wechatpay: WechatKeys,
    /// Alipay: app and platform.
    pub alipay: AlipayKeys,
    /// UnionPay: CA chain, platform signing certificate and merchant signing certificate.
    pub unionpay: UnionpayKeys,
}

/// The merchant's mini-program: a second appid bound to the same `mchid` (JSAPI payments made
/// from the mini-program's pay page carry it).
pub const MINIPROGRAM_APPID: &str = "wx8888888888888888";

/// WeChat Pay test keys.
#[derive(Clone, Serialize, Deserialize)]
pub struct WechatKeys {
    pub mchid: String,
    pub appid: String,
    pub app_secret: String,
    /// The merchant's API private key (the worker signs requests with it) and its certificate serial.
    pub merchant_private_key: String,
    pub merchant_public_key: String,
    pub merchant_serial: String,
    /// The platform's key: signs responses and callbacks, in public-key mode and certificate mode.
    pub platform_private_key: String,
    pub platform_public_key: String,
    pub public_key_id: String,
    pub platform_cert: String,
    pub platform_cert_serial: String,
    /// The 32-character APIv3 key (AES-256-GCM of callbacks and the certificate list).
    pub apiv3_key: String,
}

/// Alipay test keys.
#[derive(Clone, Serialize, Deserialize)]
pub struct AlipayKeys {
    pub app_id: String,
    pub seller_id: String,
    pub app_private_key: String,
    pub app_public_key: String,
    pub platform_private_key: String,
    pub platform_public_key: String,
}

/// UnionPay test keys.
#[derive(Clone, Serialize, Deserialize)]
pub struct UnionpayKeys {
    pub mer_id: String,
    pub root_cert: String,
    pub middle_cert: String,
    /// The platform's signing key and certificate (issued by the middle CA): signs notifications,
    /// sent as `signPubKeyCert`.
    pub platform_sign_key: String,
    pub platform_sign_cert: String,
    /// The merchant's signing key and certificate (issued by the middle CA); `certId` is its serial.
    pub merchant_sign_key: String,
    pub merchant_sign_cert: String,
    pub merchant_cert_id: String,
}

impl KeysFile {
    /// Loads `dir/keys.json`, or generates every key and writes it there.
    ///
    /// # Errors
    /// When the folder cannot be read or written, or the file is not a keys file.
    pub fn load_or_generate(dir: &Path) -> io::Result<Self> {
        let path = dir.join("keys.json");
        if path.exists() {
            let text = fs::read_to_string(&path)?;
            return serde_json::from_str(&text).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("{}: {e}", path.display())));
        }
        fs::create_dir_all(dir)?;
        let keys = generate().map_err(|e| io::Error::other(format!("generating test keys: {e}")))?;
        let text = serde_json::to_string_pretty(&keys).map_err(io::Error::other)?;
        let tmp = dir.join(format!("keys.json.{}.tmp", std::process::id()));
        fs::write(&tmp, text)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            fs::set_permissions(&tmp, fs::Permissions::from_mode(0o600))?;
        }
        // Publish atomically, and only if no other sandbox starting on the same folder got there
        // first: then use its keys, so every process on one folder signs with the same ones.
        let published = fs::hard_link(&tmp, &path);
        fs::remove_file(&tmp)?;
        match published {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Self::load_or_generate(dir),
            Err(e) => return Err(e),
        }
        Ok(keys)
    }

    /// The worker settings that point at a sandbox listening on `base_url` (no trailing slash).
    pub fn worker_config(&self, base_url: &str) -> Vec<(&'static str, String)> {
        let (w, a, u) = (&self.wechatpay, &self.alipay, &self.unionpay);
        vec![
            ("WECHATPAY_BASE_URL", base_url.to_owned()),
            ("WECHAT_OPEN_BASE_URL", base_url.to_owned()),
            ("WECHAT_API_BASE_URL", base_url.to_owned()),
            ("WECHATPAY_MCHID", w.mchid.clone()),
            ("WECHATPAY_APPID", w.appid.clone()),
            ("WECHAT_MINIPROGRAM_APPID", MINIPROGRAM_APPID.to_owned()),
            ("WECHATPAY_APP_SECRET", w.app_secret.clone()),
            ("WECHATPAY_MERCHANT_SERIAL", w.merchant_serial.clone()),
            ("WECHATPAY_MERCHANT_PRIVATE_KEY", w.merchant_private_key.clone()),
            ("WECHATPAY_APIV3_KEY", w.apiv3_key.clone()),
            ("WECHATPAY_PUBLIC_KEY_ID", w.public_key_id.clone()),
            ("WECHATPAY_PUBLIC_KEY", w.platform_public_key.clone()),
            ("WECHATPAY_PLATFORM_CERTS", w.platform_cert.clone()),
            ("ALIPAY_GATEWAY", format!("{base_url}/gateway.do")),
            ("ALIPAY_APP_ID", a.app_id.clone()),
            ("ALIPAY_SELLER_ID", a.seller_id.clone()),
            ("ALIPAY_APP_PRIVATE_KEY", a.app_private_key.clone()),
            ("ALIPAY_PUBLIC_KEY", a.platform_public_key.clone()),
            ("UNIONPAY_BASE_URL", base_url.to_owned()),
            ("UNIONPAY_MER_ID", u.mer_id.clone()),
            ("UNIONPAY_SIGN_KEY", u.merchant_sign_key.clone()),
            ("UNIONPAY_SIGN_CERT_ID", u.merchant_cert_id.clone()),
            ("UNIONPAY_ROOT_CERTS", format!("{}{}", u.root_cert, u.middle_cert)),
            // The signer name payment-core's `TrustAnchors` requires of a `signPubKeyCert` (its CN's
            // signer part); the production default, 中国银联股份有限公司, is not the sandbox's.
            ("UNIONPAY_SIGNER", unionpay_signer(&u.platform_sign_cert)),
        ]
    }
}

/// The signer name of the UnionPay signing certificate `pem`, as `TrustAnchors` reads it.
fn unionpay_signer(pem: &str) -> String {
    payment_core::x509::Certificate::all_from_pem(pem)
        .ok()
        .and_then(|certs| certs.first().and_then(payment_core::unionpay::trust::signer_name))
        .unwrap_or_default()
}

type Generated<T> = Result<T, Box<dyn std::error::Error>>;

struct KeyPair {
    private: rsa::RsaPrivateKey,
}

impl KeyPair {
    fn new() -> Generated<Self> {
        Ok(Self { private: rsa::RsaPrivateKey::new(&mut OsRng, 2048)? })
    }
    fn private_pem(&self) -> Generated<String> {
        Ok(self.private.to_pkcs8_pem(LineEnding::LF)?.to_string())
    }
    fn public_pem(&self) -> Generated<String> {
        Ok(self.private.to_public_key().to_public_key_pem(LineEnding::LF)?)
    }
    fn spki(&self) -> Generated<SubjectPublicKeyInfoOwned> {
        Ok(SubjectPublicKeyInfoOwned::from_key(self.private.to_public_key())?)
    }
}

/// A positive serial number of `len` random bytes.
fn serial(len: usize) -> Vec<u8> {
    let mut bytes = vec![0_u8; len];
    OsRng.fill_bytes(&mut bytes);
    bytes[0] = (bytes[0] & 0x7f) | 0x10;
    bytes
}

fn certificate(profile: Profile, serial: &[u8], subject: &str, subject_key: &KeyPair, issuer: &KeyPair) -> Generated<String> {
    let signer = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(issuer.private.clone());
    let builder = CertificateBuilder::new(
        profile,
        SerialNumber::new(serial)?,
        Validity::from_now(Duration::from_secs(10 * 365 * 24 * 3600))?,
        Name::from_str(subject)?,
        subject_key.spki()?,
        &signer,
    )?;
    let cert = builder.build::<rsa::pkcs1v15::Signature>()?;
    Ok(cert.to_pem(LineEnding::LF)?)
}

fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

fn random_alphanumeric(len: usize) -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    (0..len).map(|_| char::from(CHARS[OsRng.gen_range(0..CHARS.len())])).collect()
}

fn generate() -> Generated<KeysFile> {
    // WeChat Pay.
    let merchant = KeyPair::new()?;
    let platform = KeyPair::new()?;
    let ca = KeyPair::new()?;
    let platform_serial = serial(20);
    let platform_cert = certificate(
        Profile::Leaf { issuer: Name::from_str("CN=edgepay sandbox WeChat Pay CA (test only),O=edgepay sandbox,C=CN")?, enable_key_agreement: false, enable_key_encipherment: false },
        &platform_serial,
        "CN=edgepay sandbox WeChat Pay platform (test only),O=edgepay sandbox,C=CN",
        &platform,
        &ca,
    )?;
    let wechatpay = WechatKeys {
        mchid: "1900000109".to_owned(),
        appid: "wxd678efh567hg6787".to_owned(),
        app_secret: random_alphanumeric(32),
        merchant_private_key: merchant.private_pem()?,
        merchant_public_key: merchant.public_pem()?,
        merchant_serial: hex_upper(&serial(20)),
        platform_private_key: platform.private_pem()?,
        platform_public_key: platform.public_pem()?,
        public_key_id: format!("PUB_KEY_ID_0119000001092026{}", OsRng.gen_range(10_000_000_000_u64..99_999_999_999)),
        platform_cert,
        platform_cert_serial: hex_upper(&platform_serial),
        apiv3_key: random_alphanumeric(32),
    };

    // Alipay.
    let app = KeyPair::new()?;
    let alipay_platform = KeyPair::new()?;
    let alipay = AlipayKeys {
        app_id: "2021000000000001".to_owned(),
        seller_id: "2088000000000001".to_owned(),
        app_private_key: app.private_pem()?,
        app_public_key: app.public_pem()?,
        platform_private_key: alipay_platform.private_pem()?,
        platform_public_key: alipay_platform.public_pem()?,
    };

    // UnionPay: root CA → middle CA → signing certificates.
    let root = KeyPair::new()?;
    let middle = KeyPair::new()?;
    let platform_sign = KeyPair::new()?;
    let merchant_sign = KeyPair::new()?;
    let root_name = "CN=edgepay sandbox UnionPay root CA (test only),O=edgepay sandbox,C=CN";
    let middle_name = "CN=edgepay sandbox UnionPay middle CA (test only),O=edgepay sandbox,C=CN";
    let leaf = || -> Generated<Profile> {
        Ok(Profile::Leaf { issuer: Name::from_str(middle_name)?, enable_key_agreement: false, enable_key_encipherment: false })
    };
    let merchant_serial = serial(5);
    let unionpay = UnionpayKeys {
        mer_id: "777290058110048".to_owned(),
        root_cert: certificate(Profile::Root, &serial(8), root_name, &root, &root)?,
        middle_cert: certificate(
            Profile::SubCA { issuer: Name::from_str(root_name)?, path_len_constraint: Some(0) },
            &serial(8),
            middle_name,
            &middle,
            &root,
        )?,
        platform_sign_key: platform_sign.private_pem()?,
        platform_sign_cert: certificate(leaf()?, &serial(5), "CN=edgepay sandbox UnionPay signing (test only),O=edgepay sandbox,C=CN", &platform_sign, &middle)?,
        merchant_sign_key: merchant_sign.private_pem()?,
        merchant_sign_cert: certificate(leaf()?, &merchant_serial, "CN=edgepay sandbox merchant 777290058110048 (test only),O=edgepay sandbox,C=CN", &merchant_sign, &middle)?,
        merchant_cert_id: decimal(&merchant_serial),
    };
    Ok(KeysFile {
        note: "TEST ONLY keys of the edgepay sandbox. They protect nothing; never configure them for real money.".to_owned(),
        wechatpay,
        alipay,
        unionpay,
    })
}

fn decimal(bytes: &[u8]) -> String {
    bytes.iter().fold(0_u128, |n, &b| (n << 8) | u128::from(b)).to_string()
}

/// The keys parsed once, for the handlers.
pub struct Keys {
    /// The file they came from (ids and PEMs).
    pub file: KeysFile,
    /// Verifies the merchant's WeChat Pay requests.
    pub wechat_merchant: payment_core::native::RsaPublicKey,
    /// Signs WeChat Pay responses and callbacks.
    pub wechat_platform: payment_core::native::RsaPrivateKey,
    /// Encrypts WeChat Pay callback resources.
    pub wechat_apiv3: payment_core::native::AesGcmKey,
    /// Verifies the merchant's Alipay requests.
    pub alipay_app: payment_core::native::RsaPublicKey,
    /// Signs Alipay responses and notifications.
    pub alipay_platform: payment_core::native::RsaPrivateKey,
    /// Verifies the merchant's UnionPay requests.
    pub unionpay_merchant: payment_core::native::RsaPublicKey,
    /// Signs UnionPay notifications and responses.
    pub unionpay_platform: payment_core::native::RsaPrivateKey,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys([test-only, redacted])")
    }
}

impl Keys {
    /// Parses every key of `file`.
    ///
    /// # Errors
    /// When a key in the file is malformed.
    pub fn parse(file: KeysFile) -> Result<Self, payment_core::Error> {
        use payment_core::native::{AesGcmKey, RsaPrivateKey, RsaPublicKey};
        Ok(Self {
            wechat_merchant: RsaPublicKey::from_text(&file.wechatpay.merchant_public_key, "wechatpay.merchant_public_key")?,
            wechat_platform: RsaPrivateKey::from_text(&file.wechatpay.platform_private_key, "wechatpay.platform_private_key")?,
            wechat_apiv3: AesGcmKey::new(file.wechatpay.apiv3_key.as_bytes(), "wechatpay.apiv3_key")?,
            alipay_app: RsaPublicKey::from_text(&file.alipay.app_public_key, "alipay.app_public_key")?,
            alipay_platform: RsaPrivateKey::from_text(&file.alipay.platform_private_key, "alipay.platform_private_key")?,
            unionpay_merchant: RsaPublicKey::from_text(&file.unionpay.merchant_sign_cert, "unionpay.merchant_sign_cert")?,
            unionpay_platform: RsaPrivateKey::from_text(&file.unionpay.platform_sign_key, "unionpay.platform_sign_key")?,
            file,
        })
    }
}
