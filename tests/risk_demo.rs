//! RISK_MODEL v2 on the demo city (`generate --preset quanzhou --seed 42`):
//! every unit's contributions and domains add up to its score, no
//! saturated cell explains nothing, and the rankings order by V·Λ.

mod common;

use common::*;
use riskmap::config::Config;
use riskmap::index::Store;
use riskmap::model::Level;
use riskmap::report::ranking;
use riskmap::risk::{RiskParams, score_all};

#[test]
fn demo_contributions_add_up_and_rankings_order_by_pressure() {
    let tmp = tempfile::tempdir().unwrap();
    let o = run(
        tmp.path(),
        &[
            "generate", "--preset", "quanzhou", "--seed", "42", "--out", "qz",
        ],
    );
    assert!(o.status.success(), "{}", output_text(&o));
    let loaded = riskmap::ingest::load_dir(&tmp.path().join("qz"), &Config::default().ingest())
        .unwrap_or_else(|e| panic!("{e}"));
    let store = Store::build(loaded.dataset);
    let scores = score_all(&store, &RiskParams::default());

    let mut saturated = 0;
    for (id, s) in scores.iter() {
        let all = scores.contributors(&store, id);
        let sum: f64 = all.iter().map(|c| c.contribution).sum();
        let code = &store.unit(id).code;
        assert!(
            (sum - s.score()).abs() < 1e-6,
            "{code}: contributions {sum} vs score {}",
            s.score()
        );
        let domains: f64 = s.domains().iter().map(|(_, x)| x).sum();
        assert!(
            (domains - s.score()).abs() < 1e-6,
            "{code}: domains {domains} vs score {}",
            s.score()
        );
        if store.unit(id).level == Level::Cell && s.score() >= 99.95 {
            saturated += 1;
            assert!(
                all.iter().any(|c| c.contribution > 0.0),
                "{code} at {} lists only zero contributions",
                s.score()
            );
        }
    }
    eprintln!("cells at ≥ 99.95: {saturated}");

    for level in Level::ALL {
        let top = ranking(&store, &scores, level, None, 20);
        assert_eq!(top.len(), 20.min(store.units_at(level).len()));
        let ids: Vec<_> = top
            .iter()
            .map(|r| store.unit_by_code(&r.code).unwrap())
            .collect();
        for pair in ids.windows(2) {
            let (a, b) = (scores.unit(pair[0]), scores.unit(pair[1]));
            let (ca, cb) = (&store.unit(pair[0]).code, &store.unit(pair[1]).code);
            assert!(
                a.pressure() > b.pressure() || (a.pressure() == b.pressure() && ca < cb),
                "{level}: {ca} ({}) not above {cb} ({})",
                a.pressure(),
                b.pressure()
            );
            assert!(a.score() >= b.score());
        }
        // The ranking is the top of every unit of the level by pressure.
        let best = store
            .units_at(level)
            .iter()
            .map(|&u| scores.unit(u).pressure())
            .fold(0.0, f64::max);
        assert_eq!(scores.unit(ids[0]).pressure(), best);
    }
}
