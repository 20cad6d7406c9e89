//! Transactions that write.

use sea_orm::{
    DatabaseConnection, DatabaseTransaction, DbErr, SqliteTransactionMode, TransactionOptions,
    TransactionTrait,
};

/// Begins a transaction that will write. On SQLite a deferred transaction that
/// reads first cannot wait for the write lock when it comes to write (it fails
/// at once: "database is locked"); `BEGIN IMMEDIATE` takes the lock up front,
/// waiting its turn under the busy timeout. Other databases ignore the mode.
///
/// # Errors
/// When the database cannot start the transaction.
pub async fn begin(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    })
    .await
}
