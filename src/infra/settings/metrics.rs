//! `settings.metrics`: whether `/metrics` is served, and how it is guarded.

use std::net::SocketAddr;

use super::*;

#[derive(Debug, Clone, Default, Deserialize)]
pub struct MetricsSettings {
    /// `METRICS_ENABLED`.
    #[serde(default)]
    pub enabled: bool,
    /// `METRICS_ADDR`: a listen address of its own (`127.0.0.1:9464`);
    /// empty serves it on the public port, where it needs the token.
    #[serde(default, deserialize_with = "empty_if_null")]
    pub addr: String,
    /// `METRICS_TOKEN`: the bearer token a scrape must send.
    #[serde(default = "no_secret", deserialize_with = "secret_or_empty")]
    pub token: SecretString,
}

/// Where `/metrics` is served, and what a scrape must send.
#[derive(Debug, Clone)]
pub enum MetricsExposure {
    Off,
    /// On the public port, to a scrape that sends the token.
    Public {
        token: SecretString,
    },
    /// On an address of its own; with a token, only to a scrape that sends it.
    Apart {
        addr: SocketAddr,
        token: Option<SecretString>,
    },
}

/// The shortest token taken: 128 bits, hex.
const MIN_TOKEN_CHARS: usize = 32;

impl MetricsSettings {
    /// Where `/metrics` is served; never on the public port without a token.
    ///
    /// # Errors
    /// When it is on with neither an address of its own nor a token, the
    /// address does not parse, or the token is short.
    pub fn exposure(&self) -> Result<MetricsExposure, SettingsError> {
        if !self.enabled {
            return Ok(MetricsExposure::Off);
        }
        let token = self.token.expose_secret().trim();
        if !token.is_empty() && token.chars().count() < MIN_TOKEN_CHARS {
            return Err(SettingsError::Metrics(format!(
                "METRICS_TOKEN is shorter than {MIN_TOKEN_CHARS} characters"
            )));
        }
        let token = (!token.is_empty()).then(|| SecretString::from(token));
        if self.addr.trim().is_empty() {
            let token = token.ok_or_else(|| {
                SettingsError::Metrics(
                    "METRICS_ENABLED needs METRICS_ADDR (a listen address of its own) or \
                     METRICS_TOKEN (a bearer token): /metrics is never open on the public port"
                        .to_string(),
                )
            })?;
            return Ok(MetricsExposure::Public { token });
        }
        let addr = self.addr.trim().parse().map_err(|_| {
            SettingsError::Metrics(format!(
                "METRICS_ADDR: {:?} is not an address and port (127.0.0.1:9464)",
                self.addr
            ))
        })?;
        Ok(MetricsExposure::Apart { addr, token })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exposure(enabled: bool, addr: &str, token: &str) -> Result<MetricsExposure, SettingsError> {
        MetricsSettings {
            enabled,
            addr: addr.to_string(),
            token: SecretString::from(token),
        }
        .exposure()
    }

    #[test]
    fn metrics_are_never_open_on_the_public_port() {
        let token = "0123456789abcdef0123456789abcdef";
        assert!(matches!(exposure(false, "", ""), Ok(MetricsExposure::Off)));
        assert!(exposure(true, "", "").is_err());
        assert!(exposure(true, "", "short").is_err());
        assert!(exposure(true, "localhost", "").is_err());
        assert!(matches!(
            exposure(true, "", token),
            Ok(MetricsExposure::Public { .. })
        ));
        assert!(matches!(
            exposure(true, "127.0.0.1:9464", ""),
            Ok(MetricsExposure::Apart { token: None, .. })
        ));
        assert!(matches!(
            exposure(true, "127.0.0.1:9464", token),
            Ok(MetricsExposure::Apart { token: Some(_), .. })
        ));
    }
}
