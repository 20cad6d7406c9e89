//! `settings.data_rights`: how long a deletion waits, and an export stays.

use super::*;

#[derive(Debug, Clone, Deserialize)]
pub struct DataRightsSettings {
    /// `ACCOUNT_DELETION_GRACE_DAYS`: how long after its owner asks an
    /// account is deleted (they may cancel until then); 0 deletes at once.
    #[serde(default = "default_grace_days")]
    pub account_deletion_grace_days: u32,
    /// `DATA_EXPORT_TTL_HOURS`: how long an export's archive may be
    /// downloaded.
    #[serde(default = "default_export_hours")]
    pub data_export_ttl_hours: u32,
}

impl Default for DataRightsSettings {
    fn default() -> Self {
        Self {
            account_deletion_grace_days: default_grace_days(),
            data_export_ttl_hours: default_export_hours(),
        }
    }
}

impl DataRightsSettings {
    #[must_use]
    pub fn grace(&self) -> Duration {
        Duration::days(self.account_deletion_grace_days.into())
    }

    #[must_use]
    pub fn export_ttl(&self) -> Duration {
        Duration::hours(self.data_export_ttl_hours.into())
    }
}

const fn default_grace_days() -> u32 {
    7
}

const fn default_export_hours() -> u32 {
    48
}
