// Risk levels, grid levels and the zoom bands of the style.

/** The four risk levels, most severe first (contract colours). */
export const RISK_LEVELS = [
  { key: 'major', zh: '重大', color: '#d7191c' },
  { key: 'high', zh: '较大', color: '#fd8d3c' },
  { key: 'medium', zh: '一般', color: '#fecc5c' },
  { key: 'low', zh: '低', color: '#2c7bb6' },
];

/** Chinese name of a risk level key. */
export const riskZh = (key) => RISK_LEVELS.find((r) => r.key === key)?.zh ?? '未评估';

/** The grid levels, coarsest first, with their tile layer and Chinese name. */
export const GRID_LEVELS = [
  { key: 'county', layer: 'counties', zh: '区县' },
  { key: 'town', layer: 'towns', zh: '乡镇/街道' },
  { key: 'village', layer: 'villages', zh: '村/社区' },
  { key: 'cell', layer: 'cells', zh: '单元网格' },
];

/** Chinese name of a grid level key. */
export const levelZh = (key) => GRID_LEVELS.find((l) => l.key === key)?.zh ?? key;

/** The tile layer of a grid level key. */
export const levelLayer = (key) => GRID_LEVELS.find((l) => l.key === key)?.layer;

/**
 * The grid level drawn as the choropleth at `zoom`, from the style's
 * `metadata["riskmap:levels"]` ({county: [minzoom, maxzoom], …}).
 */
export function levelAtZoom(bands, zoom) {
  for (const l of GRID_LEVELS) {
    const [lo, hi] = bands[l.key] ?? [0, 0];
    if (zoom >= lo && zoom < hi) return l.key;
  }
  return zoom < (bands.county?.[0] ?? 0) ? 'county' : 'cell';
}

/** Chinese names of the private and public layers' features. */
export const LAYER_ZH = {
  enterprises: '生产经营单位',
  hazard_sources: '重大危险源',
  collapse_zones: '道路塌陷风险区',
  hidden_dangers: '隐患',
  alarms: '监测预警',
};

/** Domains of the 分系统 view: an industry's word, or one of these. */
export function domainZh(d) {
  return INDUSTRY_ZH[d] ?? { hazard_sources: '重大危险源', collapse_zones: '道路塌陷',
    hidden_dangers: '独立隐患', alarms: '监测预警' }[d] ?? d;
}

/** Industries (enterprises' `industry`). */
export const INDUSTRY_ZH = {
  hazardous_chemicals: '危险化学品', fireworks: '烟花爆竹', mining: '矿山', metallurgy: '冶金',
  nonferrous: '有色金属', dust_explosion: '粉尘涉爆', ammonia_refrigeration: '涉氨制冷',
  confined_space: '有限空间', gas: '燃气', construction: '建筑施工', crowded_place: '人员密集场所',
  warehousing: '仓储物流', general_manufacturing: '一般工贸',
};

/** Collapse zone kinds. */
export const ZONE_KIND_ZH = {
  loess: '湿陷性黄土', underground_works: '地下工程施工影响', old_pipes: '老旧管网集中',
  civil_defense: '地下人防工程影响', cavity: '探地雷达发现空洞',
};

/** Hazard source grades (GB 18218-2018). */
export const GRADE_ZH = { 1: '一级', 2: '二级', 3: '三级', 4: '四级' };
