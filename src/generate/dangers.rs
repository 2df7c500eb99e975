//! 隐患 records for the demo: about 3 per 10 enterprises found over the 12
//! months before the as-of date, most of them closed (销号), some open and
//! overdue, a few major (more often in high-risk industries and grades);
//! plus standalone records with no enterprise (roads, pipelines, buildings)
//! in dense urban cells. The enterprises' open counts are then set from
//! the open records, so the file and the counts agree.

use super::geom::{Shape, round_point};
use super::grid::Grid;
use super::rng::{Cumulative, Rand, Stream, item_rng, weighted_index};
use crate::model::{
    DangerCategory, DangerGrade, DangerSource, DangerStatus, Date, Enterprise, HiddenDanger,
    Industry, OtherCategory, RiskLevel,
};
use rand::Rng;
use rayon::prelude::*;
use std::collections::BTreeMap;

/// Records per enterprise over the year, on average.
const PER_ENTERPRISE: f64 = 0.3;
/// Share of all records that belong to no enterprise.
const STANDALONE_SHARE: f64 = 0.05;
/// Days of history before the as-of date.
const HISTORY_DAYS: i32 = 365;
/// Share of records still not rectified at the as-of date, whatever their age.
const STUCK_SHARE: f64 = 0.07;
/// Share of records rectified by their deadline.
const ON_TIME_SHARE: f64 = 0.88;

/// How risky an industry is for hidden dangers (relative).
fn industry_factor(i: Industry) -> f64 {
    use Industry::*;
    match i {
        HazardousChemicals | Fireworks => 3.0,
        Mining => 2.5,
        Metallurgy | Gas | Nonferrous | DustExplosion | AmmoniaRefrigeration => 2.0,
        Construction | CrowdedPlace | ConfinedSpace => 1.5,
        Warehousing => 1.2,
        GeneralManufacturing => 1.0,
    }
}

fn grade_factor(g: RiskLevel) -> f64 {
    match g {
        RiskLevel::Major => 2.5,
        RiskLevel::High => 1.6,
        RiskLevel::Medium => 1.0,
        RiskLevel::Low => 0.6,
    }
}

/// Probability that one record of an enterprise is a major danger.
fn major_probability(e: &Enterprise) -> f64 {
    (0.008 * industry_factor(e.industry).powi(2) * grade_factor(e.risk_grade)).min(0.4)
}

/// Descriptions per industry.
fn industry_descriptions(i: Industry) -> &'static [&'static str] {
    use Industry::*;
    match i {
        HazardousChemicals => &[
            "储罐区可燃气体报警器未定期检定",
            "危化品仓库超量储存",
            "装卸区静电接地装置损坏",
            "重大危险源监控数据未接入平台",
        ],
        Fireworks => &["药物混合工房超员作业", "成品库房防雷设施失效"],
        Mining => &["尾矿库排洪设施堵塞", "采场边坡未按设计放坡"],
        Metallurgy => &["高温熔融金属吊运设备制动失灵", "煤气区域未设一氧化碳报警器"],
        Nonferrous => &["熔炼炉冷却水系统无断水报警", "铝液转运通道有积水"],
        DustExplosion => &["除尘系统未设泄爆装置", "作业场所粉尘积尘未及时清理"],
        AmmoniaRefrigeration => &["液氨管道阀门锈蚀泄漏", "氨气浓度报警器未联动风机"],
        ConfinedSpace => &["有限空间作业未执行审批", "有限空间未设警示标志"],
        Gas => &[
            "燃气管道穿越配电间",
            "瓶装燃气储存点超量存放",
            "燃气泄漏报警装置失效",
        ],
        Construction => &[
            "深基坑支护变形未监测",
            "脚手架连墙件缺失",
            "塔吊限位装置失效",
        ],
        CrowdedPlace => &["疏散通道堆放杂物", "安全出口锁闭", "消防设施未定期维护"],
        Warehousing => &["仓库内违规住人", "货架超高超载堆放"],
        GeneralManufacturing => &[
            "设备传动部位防护罩缺失",
            "电气线路私拉乱接",
            "特种作业人员无证上岗",
            "安全生产责任制未落实",
        ],
    }
}

fn other_descriptions(o: OtherCategory) -> &'static [&'static str] {
    match o {
        OtherCategory::Road => &["路面沉陷开裂", "人行道下方疑似空洞", "道路井盖缺失"],
        OtherCategory::Pipeline => &["燃气管线上方违章占压", "供水管网渗漏致路基掏空"],
        OtherCategory::Building => &["老旧房屋墙体开裂", "违规加层改建", "外墙脱落隐患"],
        OtherCategory::Fire => &["电动自行车楼道充电", "消防通道被占用"],
        OtherCategory::SpecialEquipment => &["电梯超期未检", "锅炉安全阀失效"],
        OtherCategory::Other => &["广告牌固定件锈蚀"],
    }
}

fn other_responsible(o: OtherCategory) -> &'static str {
    match o {
        OtherCategory::Road => "市政管理部门",
        OtherCategory::Pipeline => "管线权属单位",
        OtherCategory::Building => "住建部门",
        OtherCategory::Fire => "消防救援机构",
        OtherCategory::SpecialEquipment => "市场监管部门",
        OtherCategory::Other => "属地街道",
    }
}

/// Draws a count from a Poisson distribution of mean `lambda` (small).
fn poisson(rng: &mut Rand, lambda: f64) -> u32 {
    let limit = (-lambda).exp();
    let mut p = rng.random::<f64>();
    let mut n = 0;
    while p > limit && n < 50 {
        p *= rng.random::<f64>();
        n += 1;
    }
    n
}

fn pick<'a>(rng: &mut Rand, items: &[&'a str]) -> &'a str {
    items
        .get(rng.random_range(0..items.len().max(1)))
        .copied()
        .unwrap_or("")
}

/// The part of a record the timeline decides.
struct Timeline {
    found_at: Date,
    deadline: Date,
    status: DangerStatus,
    closed_at: Option<Date>,
}

/// Found within the year before `as_of`; rectified mostly on time and
/// verified within a week; a few stay open however old they are.
fn timeline(rng: &mut Rand, as_of: Date, grade: DangerGrade) -> Timeline {
    let found_at = as_of.add_days(-rng.random_range(0..HISTORY_DAYS));
    let allowed = match grade {
        DangerGrade::General => rng.random_range(7..=45),
        DangerGrade::Major => rng.random_range(30..=90),
    };
    let deadline = found_at.add_days(allowed);
    let stuck = rng.random::<f64>() < STUCK_SHARE;
    let rectified_after = if rng.random::<f64>() < ON_TIME_SHARE {
        rng.random_range(1..=allowed)
    } else {
        allowed + rng.random_range(1..=60)
    };
    let closed_after = rectified_after + rng.random_range(0..=7);
    let age = as_of.days() - found_at.days();
    let (status, closed_at) = if !stuck && closed_after <= age {
        (DangerStatus::Closed, Some(found_at.add_days(closed_after)))
    } else if stuck {
        let x = rng.random::<f64>();
        let status = if x < 0.15 {
            DangerStatus::Reported
        } else if x < 0.85 {
            DangerStatus::Rectifying
        } else {
            DangerStatus::Rectified
        };
        (status, None)
    } else if rectified_after <= age {
        (DangerStatus::Rectified, None)
    } else if age < 3 {
        (DangerStatus::Reported, None)
    } else {
        (DangerStatus::Rectifying, None)
    };
    Timeline {
        found_at,
        deadline,
        status,
        closed_at,
    }
}

fn enterprise_dangers(
    seed: u64,
    e: &Enterprise,
    index: usize,
    lambda: f64,
    as_of: Date,
) -> Vec<HiddenDanger> {
    let mut rng = item_rng(seed, Stream::Dangers, index as u64);
    let n = poisson(&mut rng, lambda);
    (0..n)
        .map(|_| {
            let grade = if rng.random::<f64>() < major_probability(e) {
                DangerGrade::Major
            } else {
                DangerGrade::General
            };
            let t = timeline(&mut rng, as_of, grade);
            let source = [
                DangerSource::SelfCheck,
                DangerSource::Patrol,
                DangerSource::Inspection,
                DangerSource::Report,
                DangerSource::Alarm,
            ][weighted_index(&mut rng, &[40.0, 25.0, 27.0, 5.0, 3.0])];
            HiddenDanger {
                id: String::new(),
                enterprise_id: Some(e.id.clone()),
                category: DangerCategory::Industry(e.industry),
                grade,
                description: pick(&mut rng, industry_descriptions(e.industry)).to_string(),
                source,
                found_at: t.found_at,
                deadline: Some(t.deadline),
                responsible: Some(e.name.clone()),
                status: t.status,
                closed_at: t.closed_at,
                location: e.location,
            }
        })
        .collect()
}

fn standalone_danger(
    seed: u64,
    grid: &Grid,
    cells: &Cumulative,
    k: usize,
    as_of: Date,
) -> Option<HiddenDanger> {
    // Stream items above every enterprise index.
    let mut rng = item_rng(seed, Stream::Dangers, (1u64 << 40) + k as u64);
    let cell = grid.cells.get(cells.draw(&mut rng))?;
    let at = Shape::new(cell.geometry.clone()).sample(&mut rng, 50)?;
    let category = [
        OtherCategory::Road,
        OtherCategory::Pipeline,
        OtherCategory::Building,
        OtherCategory::Fire,
        OtherCategory::SpecialEquipment,
    ][weighted_index(&mut rng, &[35.0, 30.0, 25.0, 5.0, 5.0])];
    let grade = if rng.random::<f64>() < 0.06 {
        DangerGrade::Major
    } else {
        DangerGrade::General
    };
    let t = timeline(&mut rng, as_of, grade);
    let source = [
        DangerSource::Patrol,
        DangerSource::Report,
        DangerSource::Inspection,
        DangerSource::Alarm,
    ][weighted_index(&mut rng, &[45.0, 30.0, 20.0, 5.0])];
    Some(HiddenDanger {
        id: String::new(),
        enterprise_id: None,
        category: DangerCategory::Other(category),
        grade,
        description: pick(&mut rng, other_descriptions(category)).to_string(),
        source,
        found_at: t.found_at,
        deadline: Some(t.deadline),
        responsible: Some(other_responsible(category).to_string()),
        status: t.status,
        closed_at: t.closed_at,
        location: round_point(at),
    })
}

/// The year of records before `as_of` for `enterprises` in `grid`, sorted
/// by id (`HD-YYYYMMDD-NNNN`, numbered per found date).
pub fn generate(
    seed: u64,
    grid: &Grid,
    enterprises: &[Enterprise],
    as_of: Date,
) -> Vec<HiddenDanger> {
    let weight = |e: &Enterprise| industry_factor(e.industry).sqrt() * grade_factor(e.risk_grade);
    let mean = if enterprises.is_empty() {
        1.0
    } else {
        enterprises.iter().map(weight).sum::<f64>() / enterprises.len() as f64
    };
    let mut drafts: Vec<HiddenDanger> = enterprises
        .par_iter()
        .enumerate()
        .flat_map_iter(|(i, e)| {
            enterprise_dangers(seed, e, i, PER_ENTERPRISE * weight(e) / mean, as_of)
        })
        .collect();
    // Dense urban cells: weight by population density.
    let cells = Cumulative::new(grid.cells.iter().enumerate().map(|(i, c)| {
        let urban = grid.cell_urban.get(i).copied().unwrap_or(false);
        let area = grid.cell_area.get(i).copied().unwrap_or(0.0);
        if urban && area > 0.0 {
            let density = c.population as f64 / area;
            density * density
        } else {
            0.0
        }
    }));
    let standalone =
        (drafts.len() as f64 * STANDALONE_SHARE / (1.0 - STANDALONE_SHARE)).round() as usize;
    let extra: Vec<HiddenDanger> = (0..standalone)
        .into_par_iter()
        .filter_map(|k| standalone_danger(seed, grid, &cells, k, as_of))
        .collect();
    drafts.extend(extra);
    // Stable: same found date keeps generation order.
    drafts.sort_by_key(|d| d.found_at);
    let mut per_day: BTreeMap<Date, u32> = BTreeMap::new();
    drafts
        .into_iter()
        .map(|mut danger| {
            let n = per_day.entry(danger.found_at).or_insert(0);
            *n += 1;
            let (y, m, day) = danger.found_at.ymd();
            danger.id = format!("HD-{y:04}{m:02}{day:02}-{n:04}");
            danger
        })
        .collect()
}

/// Sets every enterprise's `hidden_dangers_open` and
/// `major_hidden_dangers_open` to the counts of its open records.
pub fn set_open_counts(enterprises: &mut [Enterprise], dangers: &[HiddenDanger]) {
    let mut open: BTreeMap<&str, (u32, u32)> = BTreeMap::new();
    for d in dangers.iter().filter(|d| d.status.is_open()) {
        if let Some(e) = d.enterprise_id.as_deref() {
            let c = open.entry(e).or_insert((0, 0));
            c.0 += 1;
            c.1 += u32::from(d.grade == DangerGrade::Major);
        }
    }
    for e in enterprises {
        let (all, major) = open.get(e.id.as_str()).copied().unwrap_or((0, 0));
        e.hidden_dangers_open = all;
        e.major_hidden_dangers_open = major;
    }
}
