//! `settings.files`: where uploads are stored (a folder or an S3 bucket),
//! how big they may be, and each user's quota.

use loco_rs::storage::{Storage, drivers};
use opendal_http_transport_reqwest::ReqwestTransport;
use tracing::Instrument;

use super::*;
use crate::models::{files::Quota, users};

/// `settings.files`: where uploads are stored, and how big they may be.
#[derive(Debug, Clone, Deserialize)]
pub struct FileSettings {
    /// `FILE_STORAGE_PATH`: the folder of the local store.
    pub storage_path: String,
    /// `FILE_MAX_BYTES`.
    pub max_bytes: u64,
    /// `PROFILE_PICTURE_MAX_BYTES`.
    pub profile_picture_max_bytes: u64,
    /// `S3_BUCKET`: when set, files go to this bucket instead of the folder.
    #[serde(default, deserialize_with = "empty_if_null")]
    pub s3_bucket: String,
    /// `S3_ENDPOINT`, for S3-compatible services; empty means AWS.
    #[serde(default, deserialize_with = "empty_if_null")]
    pub s3_endpoint: String,
    #[serde(default, deserialize_with = "empty_if_null")]
    pub s3_region: String,
    /// `AWS_ACCESS_KEY_ID`; empty means the usual AWS sources (the
    /// environment, an instance role).
    #[serde(default, deserialize_with = "empty_if_null")]
    pub aws_access_key_id: String,
    #[serde(default = "no_secret", deserialize_with = "secret_or_empty")]
    pub aws_secret_access_key: SecretString,
    /// `FILES_QUOTA_BYTES`: what one user's files may weigh together; 0 for
    /// no limit.
    pub quota_bytes: u64,
    /// `FILES_QUOTA_COUNT`: how many files one user may keep; 0 for no limit.
    pub quota_count: u64,
}

impl FileSettings {
    /// The quota `user`'s files are held to: none for an admin.
    #[must_use]
    pub fn quota_of(&self, user: &users::Model) -> Quota {
        if user.is_admin() {
            return Quota::NONE;
        }
        Quota {
            bytes: (self.quota_bytes > 0).then_some(self.quota_bytes),
            count: (self.quota_count > 0).then_some(self.quota_count),
        }
    }

    /// The store these settings name: the bucket when one is set, else the
    /// folder (created when missing).
    ///
    /// # Errors
    /// When the folder cannot be created or the bucket's client cannot be
    /// configured.
    pub fn store(&self) -> Result<Storage, SettingsError> {
        if !self.s3_bucket.is_empty() {
            return self.bucket(&self.s3_bucket);
        }
        let unusable = |error: &dyn std::fmt::Display| {
            SettingsError::FileStorage(format!(
                "FILE_STORAGE_PATH {:?}: {error}",
                self.storage_path
            ))
        };
        std::fs::create_dir_all(&self.storage_path).map_err(|error| unusable(&error))?;
        drivers::local::new_with_prefix(&self.storage_path)
            .map(Storage::single)
            .map_err(|error| unusable(&error))
    }

    /// The bucket `name` on the S3 service these settings name: the same
    /// endpoint, region and credentials as `S3_BUCKET`'s.
    ///
    /// # Errors
    /// When the bucket's client cannot be configured.
    pub fn bucket(&self, name: &str) -> Result<Storage, SettingsError> {
        let http = reqwest::Client::builder().build().map_err(|error| {
            SettingsError::FileStorage(format!("S3 bucket {name:?}: HTTP client: {error}"))
        })?;
        // Once per process: later calls are ignored.
        opendal::HttpTransporter::install_default(TracedTransport(ReqwestTransport::new(http)));
        let region = if self.s3_region.is_empty() {
            "us-east-1"
        } else {
            &self.s3_region
        };
        let credential = drivers::aws::Credential {
            key_id: self.aws_access_key_id.clone(),
            secret_key: self.aws_secret_access_key.expose_secret().to_string(),
            token: None,
        };
        match (
            self.aws_access_key_id.is_empty(),
            self.s3_endpoint.is_empty(),
        ) {
            (true, true) => drivers::aws::new(name, region),
            (false, true) => drivers::aws::with_credentials(name, region, credential),
            (_, false) => drivers::aws::with_credentials_and_endpoint(
                name,
                region,
                &self.s3_endpoint,
                credential,
            ),
        }
        .map(Storage::single)
        .map_err(|error| SettingsError::FileStorage(format!("S3 bucket {name:?}: {error}")))
    }
}

/// The S3 client's transport: reqwest, with a span around each call.
struct TracedTransport(ReqwestTransport);

impl opendal::HttpTransport for TracedTransport {
    async fn fetch(
        &self,
        request: axum::http::Request<opendal::Buffer>,
    ) -> opendal::Result<axum::http::Response<opendal::HttpBody>> {
        let span = tracing::info_span!(
            "s3",
            "otel.name" = %format_args!("S3 {}", request.method()),
            "otel.kind" = "client",
            "http.request.method" = %request.method(),
        );
        self.0.fetch(request).instrument(span).await
    }
}
