//! Synthetic Chinese names: people, enterprises, places.

use super::rng::{Rand, pick};
use crate::model::Industry;
use rand::Rng;

/// Common surnames of southern Fujian, roughly by frequency.
const SURNAMES: &[(&str, f64)] = &[
    ("陈", 12.0),
    ("林", 10.0),
    ("黄", 8.0),
    ("王", 5.0),
    ("吴", 4.5),
    ("张", 4.5),
    ("李", 4.0),
    ("郑", 3.5),
    ("蔡", 3.5),
    ("许", 3.0),
    ("洪", 3.0),
    ("苏", 2.5),
    ("庄", 2.5),
    ("杨", 2.5),
    ("刘", 2.5),
    ("曾", 2.0),
    ("施", 2.0),
    ("谢", 2.0),
    ("柯", 1.5),
    ("颜", 1.5),
    ("潘", 1.5),
    ("周", 1.5),
    ("吕", 1.2),
    ("丁", 1.0),
    ("傅", 1.0),
    ("卢", 1.0),
    ("肖", 1.0),
    ("郭", 1.5),
    ("徐", 1.2),
    ("骆", 0.6),
];

const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "涛", "明", "超",
    "秀", "霞", "平", "刚", "桂", "英", "华", "建", "国", "志", "文", "辉", "玲", "燕", "鹏", "斌",
    "宏", "婷", "雪", "琳", "晨", "阳", "鑫", "泉", "海", "清", "源", "荣", "福", "贵", "坤", "炜",
    "彬", "凯", "峰", "锋", "珊", "萍", "红", "梅", "春", "晓", "东", "南", "瑞", "祥", "智", "德",
];

const BRAND: &[&str] = &[
    "鑫", "华", "恒", "泰", "兴", "盛", "源", "达", "丰", "利", "隆", "宏", "祥", "瑞", "昌", "荣",
    "安", "永", "金", "宝", "嘉", "信", "诚", "益", "海", "联", "鸿", "鹏", "闽", "晋", "鼎", "峰",
    "凯", "顺", "合", "力", "新", "星", "辉", "龙", "浩", "锦", "润", "通", "远", "佳", "美", "德",
];

/// A synthetic person's name (网格员, 督长).
pub fn person(rng: &mut Rand) -> String {
    let total: f64 = SURNAMES.iter().map(|(_, w)| *w).sum();
    let mut x = rng.random::<f64>() * total;
    let mut surname = SURNAMES[0].0;
    for (name, w) in SURNAMES {
        surname = name;
        if x < *w {
            break;
        }
        x -= w;
    }
    let mut s = surname.to_string();
    let len = if rng.random_bool(0.7) { 2 } else { 1 };
    for _ in 0..len {
        s.push_str(pick(rng, GIVEN).copied().unwrap_or("明"));
    }
    s
}

/// A two-character trade name (字号).
pub fn brand(rng: &mut Rand) -> String {
    let a = pick(rng, BRAND).copied().unwrap_or("华");
    let mut b = pick(rng, BRAND).copied().unwrap_or("兴");
    if a == b {
        b = "达";
    }
    format!("{a}{b}")
}

/// Words describing an enterprise's business, by industry and the kind of
/// industrial area it sits in (if any).
fn business(rng: &mut Rand, industry: Industry, cluster: Option<&str>) -> &'static str {
    let cluster_words: &[&str] = match (industry, cluster) {
        (Industry::GeneralManufacturing, Some("footwear")) => &["鞋业", "鞋材", "体育用品", "鞋服"],
        (Industry::GeneralManufacturing, Some("footwear-garment")) => {
            &["鞋业", "服装", "服饰", "制衣"]
        }
        (Industry::GeneralManufacturing, Some("textile-garment")) => {
            &["纺织", "服装", "织造", "印染"]
        }
        (Industry::GeneralManufacturing, Some("stone")) => &["石材", "石业", "建材"],
        (Industry::GeneralManufacturing, Some("ceramics")) => &["陶瓷", "瓷业", "工艺品"],
        (Industry::GeneralManufacturing, Some("tea-processing")) => &["茶业", "茶叶", "茶厂"],
        _ => &[],
    };
    if !cluster_words.is_empty() {
        return pick(rng, cluster_words).copied().unwrap_or("实业");
    }
    let words: &[&str] = match industry {
        Industry::HazardousChemicals => &["石化", "化工", "石油化工", "化学品贸易", "新材料"],
        Industry::Fireworks => &["烟花爆竹", "花炮"],
        Industry::Mining => &["矿业", "石料开采", "采石"],
        Industry::Metallurgy => &["钢铁", "铸造", "冶炼"],
        Industry::Nonferrous => &["铝业", "有色金属", "铜业"],
        Industry::DustExplosion => &["木业", "粉末涂料", "食品", "金属制品"],
        Industry::AmmoniaRefrigeration => &["冷冻食品", "冷链", "水产"],
        Industry::ConfinedSpace => &["污水处理", "酿造", "纸业", "环保"],
        Industry::Gas => &["燃气", "天然气", "液化气"],
        Industry::Construction => &["建筑工程", "建设工程", "建工"],
        Industry::CrowdedPlace => &["购物广场", "大酒店", "影城", "商城", "百货"],
        Industry::Warehousing => &["物流", "仓储", "供应链"],
        Industry::GeneralManufacturing => &["机械", "电子", "包装", "塑胶", "五金", "食品"],
    };
    pick(rng, words).copied().unwrap_or("实业")
}

/// A synthetic enterprise name, e.g. `晋江鑫华鞋业有限公司`.
pub fn enterprise(
    rng: &mut Rand,
    place: &str,
    industry: Industry,
    cluster: Option<&str>,
) -> String {
    let b = brand(rng);
    let w = business(rng, industry, cluster);
    if industry == Industry::CrowdedPlace {
        return format!("{place}{b}{w}");
    }
    let suffix = if rng.random_bool(0.1) {
        "股份有限公司"
    } else {
        "有限公司"
    };
    format!("{place}{b}{w}{suffix}")
}

/// Syllables for synthetic place names.
const PLACE_CHARS: &[&str] = &[
    "安", "永", "福", "清", "溪", "山", "岭", "坑", "洋", "田", "埔", "厝", "头", "尾", "湖", "林",
    "东", "西", "南", "北", "上", "下", "前", "后", "新", "龙", "凤", "云", "石", "桥", "塘", "浦",
    "江", "源", "兴", "宁", "和", "平", "丰", "美", "霞", "金", "玉", "梅", "竹", "松", "桃", "莲",
    "华", "光", "明", "仁", "德", "贤", "文", "崇", "顺", "泰", "岩", "峰", "坂", "墩", "洲", "港",
];

/// A synthetic two-character place name.
pub fn place(rng: &mut Rand) -> String {
    let a = pick(rng, PLACE_CHARS).copied().unwrap_or("安");
    let mut b = pick(rng, PLACE_CHARS).copied().unwrap_or("溪");
    if a == b {
        b = "山";
    }
    format!("{a}{b}")
}

/// A short form of a county name for enterprise names (`晋江市` → `晋江`).
pub fn county_short(name: &str) -> String {
    let trimmed = name.trim_end_matches(['区', '县', '市']);
    if trimmed.chars().count() >= 2 {
        trimmed.to_string()
    } else {
        name.to_string()
    }
}

/// A village's name without the committee suffix (`金山社区居委会` →
/// `金山社区`, `大岞村委会` → `大岞村`).
pub fn village_short(name: &str) -> String {
    for suffix in ["居民委员会", "村民委员会", "居委会", "委会"] {
        if let Some(s) = name.strip_suffix(suffix)
            && !s.is_empty()
        {
            return if suffix == "村民委员会" {
                format!("{s}村")
            } else {
                s.to_string()
            };
        }
    }
    name.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::rng::{Stream, item_rng};

    #[test]
    fn names_look_right() {
        let mut rng = item_rng(1, Stream::People, 0);
        let p = person(&mut rng);
        assert!((2..=3).contains(&p.chars().count()), "{p}");
        let e = enterprise(
            &mut rng,
            "晋江",
            Industry::GeneralManufacturing,
            Some("footwear"),
        );
        assert!(e.starts_with("晋江") && e.ends_with("公司"), "{e}");
        assert_eq!(village_short("金山社区居委会"), "金山社区");
        assert_eq!(village_short("大岞村委会"), "大岞村");
        assert_eq!(county_short("晋江市"), "晋江");
        assert_eq!(county_short("鲤城区"), "鲤城");
    }
}
