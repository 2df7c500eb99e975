//! [`Scope`]: the one access rule. Resolved once per request from the
//! caller and the snapshot being served, it says which layers a request
//! opens ([`Scope::open`]) and which grid units and private features it sees
//! ([`Scope::sees_unit`], [`Scope::sees_feature`], [`Scope::sees_point`]).
//! Tiles, OGC API – Features, the `/api` routes, search and ledgers all ask
//! it; none repeats the rule.
//!
//! The rule: public layers (grid units, collapse zones) are open to
//! everyone. The private layers (enterprises, hazard sources, hidden
//! dangers, sensors, alarms) need a token;
//! planners and admins see every private feature, a grid manager only those
//! located in a unit cell at or below its grid unit, and a token whose grid
//! unit is not in the data sees none. A feature outside every cell is seen
//! by planners and admins only.

use super::{Caller, Role};
use crate::index::{Store, UnitId};
use crate::model::LayerId;
use crate::risk::{Component, Contributor, Domain, FeatureRef};
use geo::Point;
use serde::Serialize;

/// The part of the data a request may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// No token: public layers only.
    Public,
    /// A token whose grid unit is not in the data (e.g. removed by a
    /// reload): public layers only, and no grid unit through `/api/cells`.
    Nothing,
    /// A grid manager: one grid unit and its descendants.
    Unit(UnitId),
    /// A planner or an admin: everything.
    All,
}

/// Why a layer or a unit is closed to a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    /// 401: a token is needed.
    #[error("{0}")]
    NeedsToken(String),
    /// 403: the token's scope does not reach it.
    #[error("{0}")]
    OutOfScope(String),
}

impl Scope {
    /// The scope of `caller` over the units of `store`.
    pub fn of(caller: &Caller, store: &Store) -> Scope {
        match caller {
            Caller::Anonymous => Scope::Public,
            Caller::Token {
                role: Role::GridManager,
                scope,
                ..
            } => scope
                .as_deref()
                .and_then(|c| store.unit_by_code(c))
                .map_or(Scope::Nothing, Scope::Unit),
            Caller::Token {
                role: Role::Ingest, ..
            } => Scope::Nothing,
            Caller::Token { .. } => Scope::All,
        }
    }

    /// The scope of an export or a public tile set: everything, or public
    /// layers only.
    pub fn for_export(include_private: bool) -> Scope {
        if include_private {
            Scope::All
        } else {
            Scope::Public
        }
    }

    /// Whether the request holds a valid token.
    pub fn has_token(self) -> bool {
        !matches!(self, Scope::Public)
    }

    /// Whether `layer` is open: public layers always, private ones to a
    /// token that sees some part of the grid.
    pub fn opens(self, layer: LayerId) -> bool {
        !layer.is_private() || matches!(self, Scope::All | Scope::Unit(_))
    }

    /// [`Scope::opens`] with the reason when closed: 401 without a token,
    /// 403 for a token that opens no grid unit.
    pub fn open(self, layer: LayerId) -> Result<(), Denied> {
        match self {
            _ if self.opens(layer) => Ok(()),
            Scope::Public => Err(Denied::NeedsToken(format!("{layer} needs a token"))),
            _ => Err(Denied::OutOfScope(format!(
                "this token opens no grid unit, so no {layer}"
            ))),
        }
    }

    /// The served layers open to this scope, in draw order.
    pub fn layers(self) -> Vec<LayerId> {
        LayerId::SERVED
            .into_iter()
            .filter(|&l| self.opens(l))
            .collect()
    }

    /// Whether the private details of grid unit `unit` (its `/api/cells`
    /// body, its ledger, its features) are open: the unit lies at or below
    /// the token's grid unit.
    pub fn sees_unit(self, store: &Store, unit: UnitId) -> bool {
        match self {
            Scope::All => true,
            Scope::Unit(scope) => store.is_within(unit, scope),
            Scope::Public | Scope::Nothing => false,
        }
    }

    /// Whether a private feature located in `cell` (none: outside every
    /// cell) is seen.
    pub fn sees_located(self, store: &Store, cell: Option<UnitId>) -> bool {
        match self {
            Scope::All => true,
            Scope::Unit(_) => cell.is_some_and(|c| self.sees_unit(store, c)),
            Scope::Public | Scope::Nothing => false,
        }
    }

    /// Whether feature `index` of `layer` is seen: every feature of a public
    /// layer, a private one when it lies inside the scope.
    pub fn sees_feature(self, store: &Store, layer: LayerId, index: u32) -> bool {
        match layer {
            LayerId::Enterprises => self.sees_located(store, store.enterprise_cell(index)),
            LayerId::HazardSources => self.sees_located(store, store.hazard_cell(index)),
            LayerId::HiddenDangers => store
                .dangers()
                .get(index)
                .is_some_and(|e| self.sees_located(store, e.cell)),
            LayerId::Sensors => {
                (index as usize) < store.alarms().sensors().len()
                    && self.sees_located(store, store.alarms().sensor_cell(index))
            }
            LayerId::Alarms => store
                .alarms()
                .get(index)
                .is_some_and(|e| self.sees_located(store, e.cell)),
            _ => true,
        }
    }

    /// [`Scope::sees_feature`] by feature id; an unknown private id is not
    /// seen.
    pub fn sees_feature_id(self, store: &Store, layer: LayerId, id: &str) -> bool {
        match layer {
            LayerId::Enterprises => store
                .enterprise_by_id(id)
                .is_some_and(|i| self.sees_feature(store, layer, i)),
            LayerId::HazardSources => store
                .hazard_by_id(id)
                .is_some_and(|i| self.sees_feature(store, layer, i)),
            LayerId::HiddenDangers => store
                .dangers()
                .index_of(id)
                .is_some_and(|i| self.sees_feature(store, layer, i)),
            LayerId::Sensors => store
                .alarms()
                .sensor_by_id(id)
                .is_some_and(|i| self.sees_feature(store, layer, i)),
            LayerId::Alarms => store
                .alarms()
                .index_of(id)
                .is_some_and(|i| self.sees_feature(store, layer, i)),
            _ => true,
        }
    }

    /// Whether a private feature at `p` (lon/lat) would be seen: the cell
    /// containing it is inside the scope.
    pub fn sees_point(self, store: &Store, p: Point<f64>) -> bool {
        self.sees_located(store, store.cell_at(p))
    }

    /// A key for caches of scope-dependent responses: `public`, `nothing`,
    /// `scope:CODE` or `all`.
    pub fn cache_key(self, store: &Store) -> String {
        match self {
            Scope::Public => "public".into(),
            Scope::Nothing => "nothing".into(),
            Scope::Unit(u) => format!("scope:{}", store.unit(u).code),
            Scope::All => "all".into(),
        }
    }

    /// One contributor to a score as this scope may see it: whole when the
    /// feature is seen, otherwise only what it does to the score (layer,
    /// domain, component, contribution) and nothing that names or places it.
    /// Collapse zones are public; hidden dangers and alarms are seen whole
    /// only with an unscoped token.
    pub fn contributor(self, store: &Store, c: &Contributor) -> ContributorView {
        let seen = match c.feature {
            FeatureRef::Enterprise(i) => self.sees_feature(store, LayerId::Enterprises, i),
            FeatureRef::HazardSource(i) => self.sees_feature(store, LayerId::HazardSources, i),
            FeatureRef::CollapseZone(_) => true,
            FeatureRef::HiddenDanger(_) => matches!(self, Scope::All),
            FeatureRef::Alarm(i) => {
                self.sees_located(store, store.alarms().get(i).and_then(|a| a.cell))
            }
        };
        if seen {
            return ContributorView::Seen(c.clone());
        }
        ContributorView::Redacted(RedactedContributor {
            layer: c.layer,
            domain: c.domain,
            component: c.component,
            contribution: c.contribution,
        })
    }

    /// [`Scope::contributor`] for a list, order kept.
    pub fn contributors(self, store: &Store, list: &[Contributor]) -> Vec<ContributorView> {
        list.iter().map(|c| self.contributor(store, c)).collect()
    }
}

/// A contributor as a caller sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ContributorView {
    /// A feature inside the caller's scope: every field.
    Seen(Contributor),
    /// A feature outside it.
    Redacted(RedactedContributor),
}

/// What a grid manager learns of a private feature outside its scope that
/// raises a score inside it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RedactedContributor {
    /// The feature's layer word.
    pub layer: &'static str,
    /// Its domain (分系统).
    pub domain: Domain,
    /// The score component it acts through.
    pub component: Component,
    /// Its contribution, unrounded score points.
    pub contribution: f64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Dataset, Industry, Level, RiskLevel};
    use crate::risk::fixtures::*;

    /// The 4 × 4 grid; an enterprise and a source in the south-west
    /// village, an enterprise and a source in the east town, one enterprise
    /// outside every cell.
    fn store() -> Store {
        Store::build(Dataset {
            units: grid4x4(),
            enterprises: vec![
                enterprise(
                    "E-in",
                    X0 + 0.0025,
                    Y0 + 0.0025,
                    Industry::Gas,
                    RiskLevel::Major,
                ),
                enterprise(
                    "E-out",
                    X0 + 0.0175,
                    Y0 + 0.0025,
                    Industry::Gas,
                    RiskLevel::Major,
                ),
                enterprise("E-none", X0 - 1.0, Y0, Industry::Gas, RiskLevel::Major),
            ],
            hazard_sources: vec![
                hazard("H-in", 2, false, X0 + 0.0075, Y0 + 0.0075),
                hazard("H-out", 2, false, X0 + 0.0175, Y0 + 0.0175),
            ],
            ..Dataset::default()
        })
    }

    /// The south-west village's scope and a cell inside and outside it.
    fn own(store: &Store) -> (Scope, UnitId, UnitId) {
        let at = |x: f64, y: f64| store.cell_at(Point::new(x, y)).unwrap();
        let village = store
            .unit_at(Level::Village, Point::new(X0 + 0.001, Y0 + 0.001))
            .unwrap();
        (
            Scope::Unit(village),
            at(X0 + 0.001, Y0 + 0.001),
            at(X0 + 0.019, Y0 + 0.001),
        )
    }

    #[test]
    fn one_rule_for_units_features_and_points() {
        let store = store();
        let (own, inside, outside) = own(&store);
        assert!(own.sees_unit(&store, inside) && !own.sees_unit(&store, outside));
        for (scope, seen) in [
            (Scope::All, vec!["E-in", "E-out", "E-none", "H-in", "H-out"]),
            (own, vec!["E-in", "H-in"]),
            (Scope::Nothing, vec![]),
            (Scope::Public, vec![]),
        ] {
            let mut got = Vec::new();
            for (layer, ids) in [
                (LayerId::Enterprises, vec!["E-in", "E-out", "E-none"]),
                (LayerId::HazardSources, vec!["H-in", "H-out"]),
            ] {
                for (i, id) in ids.iter().enumerate() {
                    assert_eq!(
                        scope.sees_feature(&store, layer, i as u32),
                        scope.sees_feature_id(&store, layer, id)
                    );
                    if scope.sees_feature_id(&store, layer, id) {
                        got.push(*id);
                    }
                }
            }
            assert_eq!(got, seen, "{scope:?}");
            // Public layers are open to every scope.
            assert!(scope.sees_feature(&store, LayerId::CollapseZones, 0));
            assert!(scope.opens(LayerId::Cells));
        }
        assert!(own.sees_point(&store, Point::new(X0 + 0.001, Y0 + 0.001)));
        assert!(!own.sees_point(&store, Point::new(X0 + 0.019, Y0 + 0.001)));
        assert!(!own.sees_feature_id(&store, LayerId::Enterprises, "no-such-id"));
    }

    #[test]
    fn layers_open_by_token_and_scope() {
        assert_eq!(
            Scope::Public.open(LayerId::Enterprises),
            Err(Denied::NeedsToken("enterprises needs a token".into()))
        );
        assert!(matches!(
            Scope::Nothing.open(LayerId::HazardSources),
            Err(Denied::OutOfScope(_))
        ));
        assert_eq!(Scope::Unit(0).open(LayerId::Enterprises), Ok(()));
        assert_eq!(Scope::Public.open(LayerId::Villages), Ok(()));
        assert_eq!(Scope::Nothing.layers(), Scope::Public.layers());
        assert_eq!(Scope::All.layers(), LayerId::SERVED.to_vec());
        assert!(!Scope::Public.has_token() && Scope::Nothing.has_token());
    }

    #[test]
    fn contributors_outside_the_scope_are_redacted() {
        let store = store();
        let (own, cell, _) = own(&store);
        let c = |feature: FeatureRef, id: &str| Contributor {
            layer: feature.layer(),
            domain: match feature {
                FeatureRef::Enterprise(_) => Domain::Industry(Industry::Gas),
                FeatureRef::HazardSource(_) => Domain::HazardSources,
                _ => Domain::CollapseZones,
            },
            component: feature.component(),
            id: id.into(),
            name: format!("name of {id}"),
            contribution: 12.5,
            label: format!("{id} label"),
            marginal: None,
            feature,
            cell,
        };
        let inside = c(FeatureRef::HazardSource(0), "H-in");
        assert_eq!(
            own.contributor(&store, &inside),
            ContributorView::Seen(inside.clone())
        );
        let out = own.contributor(&store, &c(FeatureRef::Enterprise(1), "E-out"));
        let json = serde_json::to_value(&out).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"layer": "enterprises", "domain": "gas", "component": "E", "contribution": 12.5})
        );
        let out = own.contributor(&store, &c(FeatureRef::HazardSource(1), "H-out"));
        let text = serde_json::to_string(&out).unwrap();
        assert!(
            !text.contains("H-out") && !text.contains("name of"),
            "{text}"
        );
        assert!(text.contains("\"component\":\"H\""), "{text}");
        // Collapse zones are public: always whole.
        let zone = c(FeatureRef::CollapseZone(9), "CZ-9");
        assert_eq!(
            Scope::Nothing.contributor(&store, &zone),
            ContributorView::Seen(zone.clone())
        );
        assert!(matches!(
            Scope::All.contributor(&store, &c(FeatureRef::Enterprise(1), "E-out")),
            ContributorView::Seen(_)
        ));
    }
}
