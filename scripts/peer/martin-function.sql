-- The Martin peer of the benchmarks: riskmap's generalised map as a PostGIS
-- function source, `peer.tile(z, x, y) returns bytea`, for Martin 1.14.
--
-- Reads the tables scripts/bench.sh loads into the public schema (the seven
-- layers in EPSG:3857; the grid levels from `riskmap score`) and prepares,
-- once, what riskmap's tile preparation (src/tiles/prepared.rs) prepares:
--
-- * polygons simplified per zoom (peer.units, peer.collapse_zones, one
--   partition per layer and zoom): from the layer's first zoom to 16,
--   Douglas–Peucker (ST_Simplify, rings that collapse dropped) with a
--   tolerance of one tile unit (1/4096 of a tile) at that zoom, until a copy
--   would keep more than 80 % of the vertices, from where the full-resolution
--   polygon is used as it is; rings under one tile unit² are dropped;
-- * the enterprises' quadtree: the tiles holding more than the clustering
--   threshold (peer.dense_tiles), and the count, mean position and highest
--   grade of the enterprises of every quadtree cell the clustering of those
--   tiles reads (peer.enterprise_cells).
--
-- peer.tile then cuts each layer with ST_AsMVTGeom (extent 4096, buffer 64)
-- and encodes it with ST_AsMVT; the layers are concatenated.
--
-- Run with psql -v ON_ERROR_STOP=1 -f scripts/peer/martin-function.sql on
-- the bench database (scripts/peer/README.md). It replaces the schema peer.

begin;
drop schema if exists peer cascade;
create schema peer;

-- Web Mercator metres per tile unit at zoom z (extent 4096).
create function peer.unit(z integer) returns double precision
language sql immutable parallel safe
as $$ select 40075016.685578488 / 4096.0 / 2.0 ^ z $$;

-- A 分系统 value as tiles carry it: one decimal, absent (null) when 0.
create function peer.d1(v double precision) returns double precision
language sql immutable parallel safe
as $$ select nullif(floor(v * 10 + 0.5) / 10, 0) $$;

-- g without the polygons whose exterior ring, and the holes whose ring,
-- encloses less than min_area m² (null when nothing is left).
create function peer.drop_small(g geometry, min_area double precision) returns geometry
language plpgsql immutable parallel safe
as $$
declare
  polys geometry[] := '{}';
  holes geometry[];
  p geometry;
  r geometry;
begin
  if g is null or ST_IsEmpty(g) then
    return null;
  end if;
  for i in 1..ST_NumGeometries(g) loop
    p := ST_GeometryN(g, i);
    if ST_Area(ST_MakePolygon(ST_ExteriorRing(p))) >= min_area then
      holes := '{}';
      for j in 1..ST_NumInteriorRings(p) loop
        r := ST_InteriorRingN(p, j);
        if ST_Area(ST_MakePolygon(r)) >= min_area then
          holes := holes || r;
        end if;
      end loop;
      polys := polys || ST_MakePolygon(ST_ExteriorRing(p), holes);
    end if;
  end loop;
  if cardinality(polys) = 0 then
    return null;
  end if;
  return ST_Multi(ST_Collect(polys));
end
$$;

-- The copies of a polygon for zooms minzoom..16 (riskmap's per-zoom copies)
-- and 17 (full resolution, for every zoom above 16).
create function peer.copies(g geometry, minzoom integer)
returns table (at_zoom smallint, geom geometry)
language plpgsql immutable parallel safe
as $$
declare
  n integer := ST_NPoints(g);
  raw boolean := false;
  s geometry;
begin
  for z in minzoom..16 loop
    if not raw then
      s := ST_Simplify(g, peer.unit(z), false);
      raw := coalesce(ST_NPoints(s), 0) > 0.8 * n;
    end if;
    at_zoom := z;
    geom := peer.drop_small(case when raw then g else s end, peer.unit(z) ^ 2);
    if geom is not null then
      return next;
    end if;
  end loop;
  at_zoom := 17;
  geom := peer.drop_small(g, peer.unit(17) ^ 2);
  if geom is not null then
    return next;
  end if;
end
$$;

-- Grid units: the properties riskmap's tiles carry (src/schema/grid.rs),
-- the 分系统 values rounded as tiles carry them; one partition per layer
-- and zoom.
create table peer.units (
  layer text not null,
  at_zoom smallint not null,
  fid bigint not null,
  code text, name text, level text,
  risk_score double precision, risk_level text, risk_color text,
  parent_code text, population bigint, area_km2 double precision,
  domain_hazardous_chemicals double precision, domain_fireworks double precision,
  domain_mining double precision, domain_metallurgy double precision,
  domain_nonferrous double precision, domain_dust_explosion double precision,
  domain_ammonia_refrigeration double precision, domain_confined_space double precision,
  domain_gas double precision, domain_construction double precision,
  domain_crowded_place double precision, domain_warehousing double precision,
  domain_general_manufacturing double precision, domain_hazard_sources double precision,
  domain_collapse_zones double precision, domain_hidden_dangers double precision,
  domain_alarms double precision,
  geom geometry(MultiPolygon, 3857) not null
) partition by list (layer);

create table peer.collapse_zones (
  at_zoom smallint not null,
  fid bigint not null,
  id text, kind text, severity bigint, surveyed text,
  geom geometry(MultiPolygon, 3857) not null
) partition by list (at_zoom);

-- Fill the grid levels: layer and first zoom (src/tiles/policy.rs).
do $$
declare
  l record;
  z integer;
  domains text;
begin
  for l in select * from (values ('counties', 0), ('towns', 7), ('villages', 9), ('cells', 12))
                         as v(layer, minzoom) loop
    execute format('create table peer.%I partition of peer.units for values in (%L)'
                   ' partition by list (at_zoom)', 'units_' || l.layer, l.layer);
    for z in l.minzoom..17 loop
      execute format('create table peer.%I partition of peer.%I for values in (%s)',
                     'units_' || l.layer || '_' || z, 'units_' || l.layer, z);
    end loop;
    select string_agg(format('peer.d1(s.%I)', column_name), ', ' order by ordinal_position)
      into domains
      from information_schema.columns
      where table_schema = 'peer' and table_name = 'units' and column_name like 'domain\_%';
    execute format($q$
      insert into peer.units
      select %L, c.at_zoom, s.code::bigint, s.code, s.name, s.level,
        s.risk_score, s.risk_level, s.risk_color, s.parent_code, s.population, s.area_km2,
        %s, c.geom
      from public.%I s
      cross join lateral peer.copies(s.geom, %s) c
      $q$, l.layer, domains, l.layer, l.minzoom);
  end loop;
  for z in 10..17 loop
    execute format('create table peer.%I partition of peer.collapse_zones for values in (%s)',
                   'collapse_zones_' || z, z);
  end loop;
end
$$;

insert into peer.collapse_zones
select c.at_zoom, s.ogc_fid - 1, s.id, s.kind, s.severity, s.surveyed, c.geom
from public.collapse_zones s
cross join lateral peer.copies(s.geom, 10) c;

create index on peer.units using gist (geom);
create index on peer.collapse_zones using gist (geom);

-- Point layers with the properties riskmap's tiles carry
-- (src/schema/hazard_sources.rs, src/schema/enterprises.rs); the feature
-- id is the index in the layer's file, as in riskmap.
create table peer.hazard_sources as
select ogc_fid - 1 as fid, id::text, name::text, grade, monitored, substances::text, geom
from public.hazard_sources order by geom;
create index on peer.hazard_sources using gist (geom);

create table peer.enterprises as
select ogc_fid - 1 as fid, id::text, name::text, industry::text, risk_grade::text,
  hidden_dangers_open, major_hidden_dangers_open, geom
from public.enterprises order by geom;
create index on peer.enterprises using gist (geom);
create unique index on peer.enterprises (fid);

-- The enterprises' quadtree (riskmap's PointPyramid, src/tiles/points.rs).
-- A tile with more than 2,000 enterprises (cluster_threshold) is drawn from
-- the cells of the quadtree level 6 below it (64 tile units, cluster_cell),
-- or 5 below when more than 2,000 of those are occupied, plus the occupied
-- cells just outside it whose mean falls in the buffer. peer.dense_tiles
-- holds the tiles above the threshold; peer.enterprise_cells the cells of
-- the levels those tiles read, around each dense tile and its neighbours
-- (for the border): count, mean position, highest grade.
create temp table pts on commit drop as
select fid,
  case risk_grade when 'major' then 3 when 'high' then 2 when 'medium' then 1 else 0 end as grade_rank,
  ST_X(geom) as mx, ST_Y(geom) as my,
  (ST_X(geom) + 20037508.342789244) / 40075016.685578488 as wx,
  (20037508.342789244 - ST_Y(geom)) / 40075016.685578488 as wy
from peer.enterprises;

create table peer.dense_tiles (
  zoom smallint, tile_x integer, tile_y integer, n integer,
  primary key (zoom, tile_x, tile_y)
);

create table peer.enterprise_cells (
  level smallint, cx integer, cy integer,
  n integer, max_rank smallint, first_fid bigint,
  cid bigint, -- cluster feature id: riskmap's (level << 56 | Morton code), without its top bit
  geom geometry(Point, 3857),
  primary key (level, cx, cy)
);

-- The bits of v spread to the even bit positions (of a Morton code).
create function peer.spread(v bigint) returns bigint
language plpgsql immutable parallel safe
as $$
begin
  v := (v | (v << 16)) & 281470681808895;      -- 0x0000ffff0000ffff
  v := (v | (v << 8)) & 71777214294589695;     -- 0x00ff00ff00ff00ff
  v := (v | (v << 4)) & 1085102592571150095;   -- 0x0f0f0f0f0f0f0f0f
  v := (v | (v << 2)) & 3689348814741910323;   -- 0x3333333333333333
  return (v | (v << 1)) & 6148914691236517205; -- 0x5555555555555555
end
$$;

do $$
declare
  z integer := 0;
  added integer;
  lv integer;
begin
  loop
    insert into peer.dense_tiles
    select z, floor(wx * 2.0 ^ z)::integer, floor(wy * 2.0 ^ z)::integer, count(*)
    from pts group by 2, 3 having count(*) > 2000;
    get diagnostics added = row_count;
    exit when added = 0 or z = 22;
    z := z + 1;
  end loop;
  -- The dense tiles and their neighbours, at each zoom.
  create temp table near on commit drop as
  select distinct zoom, tile_x + dx as tile_x, tile_y + dy as tile_y
  from peer.dense_tiles, generate_series(-1, 1) dx, generate_series(-1, 1) dy;
  create index on near (zoom, tile_x, tile_y);
  analyze near;
  for lv in select distinct zoom + k from peer.dense_tiles, (values (5), (6)) as v(k) order by 1 loop
    insert into peer.enterprise_cells
    select lv, g.cx, g.cy, g.n, g.max_rank, g.first_fid,
      (lv::bigint << 56) | peer.spread(g.cx) | (peer.spread(g.cy) << 1),
      ST_SetSRID(ST_MakePoint(g.mx, g.my), 3857)
    from (
      select floor(wx * 2.0 ^ lv)::integer as cx, floor(wy * 2.0 ^ lv)::integer as cy,
        count(*)::integer as n, max(grade_rank) as max_rank, min(fid) as first_fid,
        avg(mx) as mx, avg(my) as my
      from pts group by 1, 2
    ) g
    where exists (select 1 from near where near.zoom = lv - 6
                    and near.tile_x = g.cx >> 6 and near.tile_y = g.cy >> 6)
       or exists (select 1 from near where near.zoom = lv - 5
                    and near.tile_x = g.cx >> 5 and near.tile_y = g.cy >> 5);
  end loop;
end
$$;

-- Whether point g lies in box w, edges included, on the exact coordinates
-- (&& compares the single-precision boxes PostGIS keeps with a geometry,
-- which let through points up to a metre outside; riskmap draws a point
-- only inside the buffered tile).
create function peer.within(g geometry, w geometry) returns boolean
language sql immutable parallel safe
as $$
  select ST_X(g) between ST_XMin(w) and ST_XMax(w) and ST_Y(g) between ST_YMin(w) and ST_YMax(w)
$$;

-- One grid level's layer of a tile; with its 分系统 values when the level
-- is the choropleth at this zoom (src/tiles/risk.rs). Two queries, as
-- ST_AsMVT writes the name of every column, even one null in every row.
create function peer.units_mvt(p_layer text, p_zoom smallint, domains boolean,
                               env geometry, benv geometry)
returns bytea
language plpgsql stable parallel safe
as $$
begin
  if domains then
    return coalesce((
      select ST_AsMVT(t, p_layer, 4096, 'geom', 'fid') from (
        select u.fid, u.code, u.name, u.level, u.risk_score, u.risk_level, u.risk_color,
          u.parent_code, u.population, u.area_km2,
          u.domain_hazardous_chemicals, u.domain_fireworks, u.domain_mining, u.domain_metallurgy,
          u.domain_nonferrous, u.domain_dust_explosion, u.domain_ammonia_refrigeration,
          u.domain_confined_space, u.domain_gas, u.domain_construction, u.domain_crowded_place,
          u.domain_warehousing, u.domain_general_manufacturing, u.domain_hazard_sources,
          u.domain_collapse_zones, u.domain_hidden_dangers, u.domain_alarms,
          ST_AsMVTGeom(u.geom, env, 4096, 64, true) as geom
        from peer.units u
        where u.layer = p_layer and u.at_zoom = p_zoom and u.geom && benv
      ) t where t.geom is not null), '');
  end if;
  return coalesce((
    select ST_AsMVT(t, p_layer, 4096, 'geom', 'fid') from (
      select u.fid, u.code, u.name, u.level, u.risk_score, u.risk_level, u.risk_color,
        u.parent_code, u.population, u.area_km2,
        ST_AsMVTGeom(u.geom, env, 4096, 64, true) as geom
      from peer.units u
      where u.layer = p_layer and u.at_zoom = p_zoom and u.geom && benv
    ) t where t.geom is not null), '');
end
$$;

-- The enterprises layer of a tile: the dense path reads the quadtree; a
-- tile at or under the threshold draws its enterprises (those in the
-- buffer included), grouped on the tile's 64-unit grid (doubled until at
-- most 2,000 groups) only if the buffer takes them over the threshold, as
-- riskmap's src/tiles/cluster.rs does.
create function peer.enterprises_mvt(z integer, x integer, y integer, env geometry, benv geometry)
returns bytea
language plpgsql stable parallel safe
as $$
declare
  n integer;
  k integer;
  side integer;
  cell double precision;
  u double precision := peer.unit(z);
begin
  if exists (select 1 from peer.dense_tiles d where d.zoom = z and d.tile_x = x and d.tile_y = y) then
    k := 6;
    select count(*) into n from (
      select 1 from peer.enterprise_cells c
      where c.level = z + 6 and c.cx between x * 64 and x * 64 + 63
        and c.cy between y * 64 and y * 64 + 63
      limit 2001) s;
    if n > 2000 then
      k := 5;
    end if;
    side := 1 << k;
    return coalesce((
      select ST_AsMVT(t, 'enterprises', 4096, 'geom', 'fid') from (
        select case when c.n = 1 then e.fid else c.cid end as fid,
          e.id, e.name, e.industry, e.risk_grade, e.hidden_dangers_open, e.major_hidden_dangers_open,
          case when c.n > 1 then c.n end as point_count,
          case when c.n > 1 then (array['low', 'medium', 'high', 'major'])[c.max_rank + 1] end
            as max_risk_grade,
          ST_AsMVTGeom(coalesce(e.geom, c.geom), env, 4096, 64, true) as geom
        from peer.enterprise_cells c
        left join peer.enterprises e on c.n = 1 and e.fid = c.first_fid
        where c.level = z + k
          and c.cx between x * side - 1 and x * side + side
          and c.cy between y * side - 1 and y * side + side
          and peer.within(c.geom, benv)
      ) t where t.geom is not null), '');
  end if;
  select count(*) into n from (
    select 1 from peer.enterprises e
    where e.geom && benv and peer.within(e.geom, benv)
    limit 2001) s;
  if n <= 2000 then
    return coalesce((
      select ST_AsMVT(t, 'enterprises', 4096, 'geom', 'fid') from (
        select e.fid, e.id, e.name, e.industry, e.risk_grade, e.hidden_dangers_open,
          e.major_hidden_dangers_open, ST_AsMVTGeom(e.geom, env, 4096, 64, true) as geom
        from peer.enterprises e where e.geom && benv and peer.within(e.geom, benv)
      ) t where t.geom is not null), '');
  end if;
  cell := 64;
  loop
    select count(*) into n from (
      select distinct floor((ST_YMax(env) - ST_Y(e.geom)) / u / cell),
        floor((ST_X(e.geom) - ST_XMin(env)) / u / cell)
      from peer.enterprises e where e.geom && benv and peer.within(e.geom, benv)) s;
    exit when n <= 2000;
    cell := cell * 2;
  end loop;
  return coalesce((
    select ST_AsMVT(t, 'enterprises', 4096, 'geom', 'fid') from (
      select case when g.n = 1 then e.fid else g.cid end as fid,
        e.id, e.name, e.industry, e.risk_grade, e.hidden_dangers_open, e.major_hidden_dangers_open,
        case when g.n > 1 then g.n end as point_count,
        case when g.n > 1 then (array['low', 'medium', 'high', 'major'])[g.max_rank + 1] end
          as max_risk_grade,
        ST_AsMVTGeom(coalesce(e.geom, g.geom), env, 4096, 64, true) as geom
      from (
        select count(*)::integer as n, min(p.fid) as first_fid,
          max(case p.risk_grade when 'major' then 3 when 'high' then 2 when 'medium' then 1 else 0 end)
            as max_rank,
          ((p.row + 1048576)::bigint << 21) | (p.col + 1048576)::bigint as cid,
          ST_SetSRID(ST_MakePoint(avg(ST_X(p.geom)), avg(ST_Y(p.geom))), 3857) as geom
        from (
          select e.fid, e.risk_grade, e.geom,
            floor((ST_YMax(env) - ST_Y(e.geom)) / u / cell)::integer as row,
            floor((ST_X(e.geom) - ST_XMin(env)) / u / cell)::integer as col
          from peer.enterprises e where e.geom && benv and peer.within(e.geom, benv)
        ) p group by p.row, p.col
      ) g
      left join peer.enterprises e on g.n = 1 and e.fid = g.first_fid
    ) t where t.geom is not null), '');
end
$$;

-- The function source: riskmap's seven public and planner layers of tile
-- z/x/y, each from its first zoom (src/tiles/policy.rs), in riskmap's order.
create function peer.tile(z integer, x integer, y integer) returns bytea
language plpgsql stable parallel safe
as $$
declare
  env geometry := ST_TileEnvelope(z, x, y);
  benv geometry := ST_Expand(ST_TileEnvelope(z, x, y), 64 * peer.unit(z));
  zz smallint := least(z, 17);
  mvt bytea;
begin
  mvt := peer.units_mvt('counties', zz, z <= 8, env, benv);
  if z >= 7 then
    mvt := mvt || peer.units_mvt('towns', zz, z between 9 and 10, env, benv);
  end if;
  if z >= 9 then
    mvt := mvt || peer.units_mvt('villages', zz, z between 10 and 12, env, benv);
  end if;
  if z >= 12 then
    mvt := mvt || peer.units_mvt('cells', zz, true, env, benv);
  end if;
  if z >= 10 then
    mvt := mvt || coalesce((
      select ST_AsMVT(t, 'collapse_zones', 4096, 'geom', 'fid') from (
        select c.fid, c.id, c.kind, c.severity, c.surveyed,
          ST_AsMVTGeom(c.geom, env, 4096, 64, true) as geom
        from peer.collapse_zones c where c.at_zoom = zz and c.geom && benv
      ) t where t.geom is not null), '');
  end if;
  mvt := mvt || coalesce((
    select ST_AsMVT(t, 'hazard_sources', 4096, 'geom', 'fid') from (
      select h.fid, h.id, h.name, h.grade, h.monitored, h.substances,
        ST_AsMVTGeom(h.geom, env, 4096, 64, true) as geom
      from peer.hazard_sources h where h.geom && benv and peer.within(h.geom, benv)
    ) t where t.geom is not null), '');
  return mvt || peer.enterprises_mvt(z, x, y, env, benv);
end
$$;

commit;
analyze;
