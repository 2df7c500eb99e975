//! Grid clustering of dense points, decided by the number of points in a
//! tile (not by zoom): at most `threshold` points are left alone; above it
//! points are grouped on a square grid aligned to the tile, whose cell is
//! doubled until at most `threshold` groups remain.

use crate::model::RiskLevel;

/// A point to cluster: its tile position and the grade clusters summarise.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClusterInput {
    /// Position in tile units.
    pub at: [f64; 2],
    /// The point's risk grade.
    pub grade: RiskLevel,
}

/// What to draw for a group of points.
#[derive(Debug, Clone, PartialEq)]
pub enum Clustered {
    /// One point, drawn as itself: its index in the input.
    Single(usize),
    /// Several points drawn as one.
    Cluster {
        /// Mean position of the members, tile units.
        at: [f64; 2],
        /// Number of members.
        point_count: u32,
        /// The highest grade among the members.
        max_grade: RiskLevel,
        /// Grid cell index (row-major on the tile's grid), a stable id.
        cell: u64,
    },
}

/// Groups `points` if there are more than `threshold`; `cell` is the first
/// grid size tried, in tile units. Output order: by grid row, then column,
/// then input order.
pub fn cluster(points: &[ClusterInput], threshold: usize, cell: f64) -> Vec<Clustered> {
    if points.len() <= threshold || threshold == 0 {
        return (0..points.len()).map(Clustered::Single).collect();
    }
    let mut size = cell.max(1.0);
    loop {
        let groups = group(points, size);
        if groups.len() <= threshold || size > 1.0e6 {
            return groups
                .into_iter()
                .map(|(key, members)| summarise(points, key, &members))
                .collect();
        }
        size *= 2.0;
    }
}

fn group(points: &[ClusterInput], size: f64) -> std::collections::BTreeMap<(i64, i64), Vec<usize>> {
    let mut groups: std::collections::BTreeMap<(i64, i64), Vec<usize>> = Default::default();
    for (i, p) in points.iter().enumerate() {
        let key = (
            (p.at[1] / size).floor() as i64,
            (p.at[0] / size).floor() as i64,
        );
        groups.entry(key).or_default().push(i);
    }
    groups
}

fn summarise(points: &[ClusterInput], key: (i64, i64), members: &[usize]) -> Clustered {
    if let [only] = members {
        return Clustered::Single(*only);
    }
    let n = members.len() as f64;
    let (mut sx, mut sy) = (0.0, 0.0);
    let mut max_grade = RiskLevel::Low;
    for &i in members {
        sx += points[i].at[0];
        sy += points[i].at[1];
        if points[i].grade.rank() > max_grade.rank() {
            max_grade = points[i].grade;
        }
    }
    // Offset rows/cols (the buffer makes them negative) into a u64 id.
    let row = (key.0 + (1 << 20)) as u64;
    let col = (key.1 + (1 << 20)) as u64;
    Clustered::Cluster {
        at: [sx / n, sy / n],
        point_count: members.len() as u32,
        max_grade,
        cell: (row << 21) | col,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pts(n: usize, grade: RiskLevel) -> Vec<ClusterInput> {
        (0..n)
            .map(|i| ClusterInput {
                at: [(i % 64) as f64 * 64.0 + 1.0, (i / 64) as f64 * 64.0 + 1.0],
                grade,
            })
            .collect()
    }

    #[test]
    fn below_threshold_nothing_is_clustered() {
        let out = cluster(&pts(100, RiskLevel::Low), 100, 64.0);
        assert_eq!(out.len(), 100);
        assert!(out.iter().all(|c| matches!(c, Clustered::Single(_))));
    }

    #[test]
    fn above_threshold_clusters_fit_and_keep_every_point() {
        let mut p = pts(3000, RiskLevel::Low);
        p[17].grade = RiskLevel::Major;
        let out = cluster(&p, 1000, 64.0);
        assert!(out.len() <= 1000, "{}", out.len());
        let total: u32 = out
            .iter()
            .map(|c| match c {
                Clustered::Single(_) => 1,
                Clustered::Cluster { point_count, .. } => *point_count,
            })
            .sum();
        assert_eq!(total, 3000);
        let majors = out
            .iter()
            .filter(|c| {
                matches!(
                    c,
                    Clustered::Cluster {
                        max_grade: RiskLevel::Major,
                        ..
                    }
                )
            })
            .count();
        assert_eq!(majors, 1);
    }

    #[test]
    fn cluster_position_is_the_mean() {
        let p = vec![
            ClusterInput {
                at: [0.0, 0.0],
                grade: RiskLevel::Low,
            },
            ClusterInput {
                at: [10.0, 20.0],
                grade: RiskLevel::High,
            },
            ClusterInput {
                at: [500.0, 500.0],
                grade: RiskLevel::Medium,
            },
        ];
        let out = cluster(&p, 2, 64.0);
        assert_eq!(out.len(), 2);
        match &out[0] {
            Clustered::Cluster {
                at,
                point_count,
                max_grade,
                ..
            } => {
                assert_eq!(*at, [5.0, 10.0]);
                assert_eq!(*point_count, 2);
                assert_eq!(*max_grade, RiskLevel::High);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(out[1], Clustered::Single(2));
    }
}
