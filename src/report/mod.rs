//! What the grid managers' API and the dashboards report about grid units:
//! summaries with their explanation, what lies inside a unit, the
//! risk-point ledger (风险点台账), rankings, statistics and search.
//!
//! Everything here reads one served snapshot's store and scores; the HTTP layer only parses and maps errors.

pub mod batch;
pub mod features;
pub mod inside;
pub mod ledger;
pub mod ledger_xlsx;
pub mod lists;
pub mod pinyin;
pub mod ranking_xlsx;
pub mod summary;

pub use batch::scores_table;
pub use inside::Inside;
pub use ledger::{LedgerRow, ledger_csv, ledger_rows};
pub use ledger_xlsx::ledger_xlsx;
pub use lists::{RankItem, SearchHit, ranking, search, stats};
pub use ranking_xlsx::ranking_xlsx;
pub use summary::{UnitSummary, summarize, summarize_for};
