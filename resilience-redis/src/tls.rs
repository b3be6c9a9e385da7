//! The certificates of a `rediss://` connection (feature `tls`): the CA the server's
//! certificate must chain to, and the client's own certificate for mutual TLS.

use std::fmt;

use redis::{ClientTlsConfig, TlsCertificates};

/// What a `rediss://` connection trusts and shows, beside its URL: set it with
/// [`Settings::tls`](crate::Settings::tls). Needs the feature `tls` (`redis-tls` on
/// `resilience`).
///
/// By default the server's certificate must chain to one of the public roots
/// (webpki-roots). A fleet's Redis usually has a CA of its own: give its certificate
/// with [`ca_certificates`](Self::ca_certificates), which then replaces the public roots.
/// A server that authenticates its clients (`tls-auth-clients yes`) wants this process's
/// certificate and key too: [`client_certificate`](Self::client_certificate).
///
/// Its `Debug` shows how much PEM each part holds, never the key.
///
/// ```no_run
/// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use resilience::redis::{Backend, Settings, Tls};
/// let tls = Tls::new()
///     .ca_certificates(std::fs::read("/etc/redis/tls/ca.crt")?)
///     .client_certificate(
///         std::fs::read("/etc/redis/tls/client.crt")?,
///         std::fs::read("/etc/redis/tls/client.key")?,
///     );
/// let redis = Backend::connect_with("rediss://redis.internal:6380", Settings::DEFAULT.tls(tls)).await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Tls {
    ca_certificates: Option<Vec<u8>>,
    client: Option<(Vec<u8>, Vec<u8>)>,
}

impl Tls {
    /// The public roots, and no client certificate: what a `rediss://` URL gets alone.
    pub const DEFAULT: Self = Self {
        ca_certificates: None,
        client: None,
    };

    /// [`DEFAULT`](Self::DEFAULT).
    ///
    /// ```
    /// # use resilience::redis::Tls;
    /// assert_eq!(Tls::new(), Tls::default());
    /// ```
    pub const fn new() -> Self {
        Self::DEFAULT
    }

    /// Trusts the CA certificates in `pem` (one or more `CERTIFICATE` blocks) instead of
    /// the public roots. A PEM that holds no certificate, or one that does not parse,
    /// fails [`Backend::connect_with`](crate::Backend::connect_with).
    ///
    /// ```
    /// # use resilience::redis::Tls;
    /// let tls = Tls::new().ca_certificates("-----BEGIN CERTIFICATE-----\n...");
    /// assert!(format!("{tls:?}").contains("ca_certificates"));
    /// ```
    pub fn ca_certificates(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.ca_certificates = Some(pem.into());
        self
    }

    /// Shows the server this certificate chain (PEM, the leaf first) and proves it with
    /// `key` (PEM: PKCS#8, PKCS#1 or SEC1), for a server that authenticates its clients.
    ///
    /// ```
    /// # use resilience::redis::Tls;
    /// let tls = Tls::new().client_certificate("-----BEGIN CERTIFICATE-----\n...", "s3cret key");
    /// assert!(!format!("{tls:?}").contains("s3cret"));
    /// ```
    pub fn client_certificate(
        mut self,
        certificate: impl Into<Vec<u8>>,
        key: impl Into<Vec<u8>>,
    ) -> Self {
        self.client = Some((certificate.into(), key.into()));
        self
    }

    /// The client's certificates, unless nothing was set: then a `rediss://` URL is
    /// opened as it is, on the public roots.
    pub(crate) fn certificates(&self) -> Option<TlsCertificates> {
        if *self == Self::DEFAULT {
            return None;
        }
        Some(TlsCertificates {
            client_tls: self
                .client
                .as_ref()
                .map(|(certificate, key)| ClientTlsConfig {
                    client_cert: certificate.clone(),
                    client_key: key.clone(),
                }),
            root_cert: self.ca_certificates.clone(),
        })
    }
}

impl fmt::Debug for Tls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pem = |bytes: &Vec<u8>| format!("<{} bytes of PEM>", bytes.len());
        f.debug_struct("Tls")
            .field("ca_certificates", &self.ca_certificates.as_ref().map(pem))
            .field(
                "client_certificate",
                &self
                    .client
                    .as_ref()
                    .map(|(certificate, _)| pem(certificate)),
            )
            .field("client_key", &self.client.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}
