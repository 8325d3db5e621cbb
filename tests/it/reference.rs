//! The reference list of regional organizations: complete, consistent, and
//! matching every name the decree's appendix prints.

use std::collections::HashSet;

use reestr::contract::RegionReference;

/// The project's own copy of the decree's figures (schemas/reference/decree/).
const DECREE_REGIONS: &str = include_str!("../../schemas/reference/decree/decree-regions.csv");

#[test]
fn every_decree_region_name_resolves_to_exactly_one_row() {
    let reference = RegionReference::embedded();
    let mut reader = csv::Reader::from_reader(DECREE_REGIONS.as_bytes());
    let mut names = HashSet::new();
    for record in reader.records() {
        let record = record.unwrap();
        let name = record.get(1).unwrap().trim().to_string();
        let matches = reference.regions.iter().filter(|r| r.name == name).count();
        assert_eq!(matches, 1, "{name:?} matches {matches} reference rows");
        names.insert(name);
    }
    assert_eq!(names.len(), 82, "the decree names 82 distinct regional organizations");
}

#[test]
fn regions_are_complete_and_consistent() {
    let reference = RegionReference::embedded();
    assert_eq!(reference.regions.len(), 85);
    assert_eq!(reference.districts.len(), 8);
    let codes: HashSet<&str> = reference.regions.iter().map(|r| r.region_code.as_str()).collect();
    assert_eq!(codes.len(), 85, "region codes are unique");
    assert!(codes.iter().all(|c| c.len() == 2 && c.bytes().all(|b| b.is_ascii_digit())));
    let tiles: HashSet<(u16, u16)> = reference.regions.iter().map(|r| (r.tile_row, r.tile_col)).collect();
    assert_eq!(tiles.len(), 85, "tile positions are unique");
    let kinds = [
        "республиканская",
        "краевая",
        "областная",
        "городская",
        "межрегиональная",
        "окружная",
        "региональная",
        "региональная в субъекте",
    ];
    for r in &reference.regions {
        assert!(kinds.contains(&r.kind.as_str()), "{}: kind {}", r.name, r.kind);
        assert!(!r.name_genitive.is_empty() && !r.short_name.is_empty());
    }
    for d in &reference.districts {
        assert!(reference.regions.iter().any(|r| r.district_code == d.district_code), "{} has no region", d.name);
    }
    assert_eq!(reference.region("23").unwrap().name, "Краснодарская краевая организация Профсоюза");
    assert_eq!(
        reference.region("78").unwrap().name,
        "Межрегиональная организация Профсоюза Санкт-Петербурга и Ленинградской области"
    );
}
