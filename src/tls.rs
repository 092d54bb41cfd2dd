//! HTTPS with rustls: the certificate comes from PEM files, re-read on `SIGHUP` and when the
//! files change, so a renewed certificate needs no restart; or a self-signed one for trials.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock, Weak};
use std::time::{Duration, SystemTime};

use anyhow::Context;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::{ClientHello, NoServerSessionStorage, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use sha2::{Digest, Sha256};

/// How often the certificate files are looked at for a change. Renewal tools (certbot,
/// cert-manager) replace the files without telling scimd; a few seconds of the old
/// certificate after a renewal is harmless, and a `stat` of two files costs nothing.
pub const WATCH_INTERVAL: Duration = Duration::from_secs(2);

/// Where the server certificate comes from.
#[derive(Debug, Clone)]
pub enum TlsSource {
    /// `--tls-cert` and `--tls-key`: PEM files, the chain leaf first.
    Files { cert: PathBuf, key: PathBuf },
    /// `--tls-self-signed HOST`: made at start-up, kept in memory only.
    SelfSigned { host: String },
}

/// The server's certificate, swappable while connections are open: a handshake picks up the
/// certificate current at that moment, connections already open keep theirs.
#[derive(Debug)]
pub struct Certificates {
    files: Option<(PathBuf, PathBuf)>,
    current: RwLock<Arc<CertifiedKey>>,
    /// What the files looked like when last read, to tell a change.
    seen: Mutex<Option<FileStamps>>,
}

type FileStamps = [(Option<SystemTime>, u64); 2];

impl Certificates {
    /// Reads the certificate files, or makes a self-signed certificate.
    pub fn load(source: &TlsSource) -> anyhow::Result<Arc<Certificates>> {
        match source {
            TlsSource::Files { cert, key } => {
                let seen = stamps(cert, key);
                let certified = read_files(cert, key)?;
                log::info!(
                    "HTTPS with the certificate in {} (SHA-256 fingerprint {})",
                    cert.display(),
                    fingerprint(&certified)
                );
                Ok(Arc::new(Certificates {
                    files: Some((cert.clone(), key.clone())),
                    current: RwLock::new(Arc::new(certified)),
                    seen: Mutex::new(Some(seen)),
                }))
            }
            TlsSource::SelfSigned { host } => {
                let certified = self_signed(host)?;
                // Not a secret: a client pins it, and the operator compares it with what the
                // IdP or browser shows.
                log::info!(
                    "HTTPS with a self-signed certificate for {host}, made for this run only; \
                     its SHA-256 fingerprint is {}",
                    fingerprint(&certified)
                );
                Ok(Arc::new(Certificates {
                    files: None,
                    current: RwLock::new(Arc::new(certified)),
                    seen: Mutex::new(None),
                }))
            }
        }
    }

    /// Whether the certificate comes from files, which can be re-read.
    pub fn from_files(&self) -> bool {
        self.files.is_some()
    }

    /// The rustls configuration: TLS 1.3 and 1.2 with ring's suites, all of them AEAD with
    /// forward secrecy; nothing older is offered.
    pub fn server_config(self: &Arc<Self>) -> anyhow::Result<rustls::ServerConfig> {
        let mut config = rustls::ServerConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .context("TLS configuration")?
            .with_no_client_auth()
            .with_cert_resolver(Arc::clone(self) as Arc<dyn ResolvesServerCert>);
        // No session resumption. A resumed handshake presents no certificate, so a client that
        // resumes a session from before a renewal goes on seeing the old certificate. A cache
        // started anew at each renewal was not enough: a handshake that picked the old
        // certificate just before the renewal stored its session in the new cache, and the
        // client then resumed it for good (the SIGHUP test failed so, under load). IdPs keep
        // their connections open, so a full handshake per new connection costs them nothing
        // that shows.
        config.session_storage = Arc::new(NoServerSessionStorage {});
        config.send_tls13_tickets = 0;
        Ok(config)
    }

    /// Re-reads the files (on `SIGHUP`). A file that does not read, or a key that does not
    /// match, keeps the certificate in use: a half-finished renewal must not take HTTPS down.
    pub fn reload(&self) {
        let Some((cert, key)) = &self.files else {
            return;
        };
        *self.seen.lock().unwrap_or_else(PoisonError::into_inner) = Some(stamps(cert, key));
        match read_files(cert, key) {
            Ok(certified) => {
                log::info!(
                    "re-read the certificate in {} (SHA-256 fingerprint {})",
                    cert.display(),
                    fingerprint(&certified)
                );
                *self.current.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(certified);
            }
            Err(error) => log::warn!(
                "cannot re-read the certificate, still serving the previous one: {error:#}"
            ),
        }
    }

    /// Re-reads the files when their modification time or size changed since the last read.
    fn reload_if_changed(&self) {
        let Some((cert, key)) = &self.files else {
            return;
        };
        let now = stamps(cert, key);
        let changed = *self.seen.lock().unwrap_or_else(PoisonError::into_inner) != Some(now);
        if changed {
            self.reload();
        }
    }

    /// Looks at the files every `interval` from a thread of its own, until the server that
    /// uses these certificates is gone.
    pub fn watch(self: &Arc<Self>, interval: Duration) {
        if self.files.is_none() {
            return;
        }
        let weak: Weak<Certificates> = Arc::downgrade(self);
        let spawned = std::thread::Builder::new()
            .name("scimd-tls-watch".to_owned())
            .spawn(move || {
                loop {
                    std::thread::sleep(interval);
                    let Some(certificates) = weak.upgrade() else {
                        return;
                    };
                    certificates.reload_if_changed();
                }
            });
        if let Err(error) = spawned {
            log::warn!("cannot watch the certificate files ({error}); send SIGHUP after a renewal");
        }
    }
}

impl ResolvesServerCert for Certificates {
    fn resolve(&self, _: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(Arc::clone(
            &self.current.read().unwrap_or_else(PoisonError::into_inner),
        ))
    }
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn read_files(cert: &Path, key: &Path) -> anyhow::Result<CertifiedKey> {
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .with_context(|| format!("cannot read the certificate {}", cert.display()))?;
    anyhow::ensure!(
        !chain.is_empty(),
        "{} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
        cert.display()
    );
    let private_key = PrivateKeyDer::from_pem_file(key)
        .with_context(|| format!("cannot read the private key {}", key.display()))?;
    CertifiedKey::from_der(chain, private_key, &provider()).with_context(|| {
        format!(
            "the key {} does not fit the certificate {}",
            key.display(),
            cert.display()
        )
    })
}

fn self_signed(host: &str) -> anyhow::Result<CertifiedKey> {
    let made = rcgen::generate_simple_self_signed(vec![host.to_owned()])
        .with_context(|| format!("cannot make a self-signed certificate for {host}"))?;
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(made.signing_key.serialize_der()));
    CertifiedKey::from_der(vec![made.cert.der().clone()], key, &provider())
        .context("self-signed certificate")
}

/// The leaf certificate's SHA-256 as colon-separated hex, as browsers and `openssl x509
/// -fingerprint -sha256` show it.
pub fn fingerprint(certified: &CertifiedKey) -> String {
    let digest = certified
        .cert
        .first()
        .map(|leaf| Sha256::digest(leaf.as_ref()))
        .unwrap_or_default();
    digest
        .iter()
        .map(|byte| format!("{byte:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn stamps(cert: &Path, key: &Path) -> FileStamps {
    let stamp = |path: &Path| {
        std::fs::metadata(path)
            .map(|meta| (meta.modified().ok(), meta.len()))
            .unwrap_or((None, 0))
    };
    [stamp(cert), stamp(key)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_signed_certificate_has_a_fingerprint_of_32_bytes() {
        let certificates = Certificates::load(&TlsSource::SelfSigned {
            host: "scim.example.com".to_owned(),
        })
        .expect("self-signed");
        let current = certificates.current.read().expect("lock").clone();
        let fingerprint = fingerprint(&current);
        assert_eq!(fingerprint.split(':').count(), 32, "{fingerprint}");
    }
}
