//! The AWS regions fanin accepts and the partition each belongs to. A region outside this
//! list is refused up front: a typo would otherwise surface only when `tofu plan` fails to
//! reach the endpoint. Regions that AWS opens later are added here in a release.

/// `(region, partition)`, sorted by region name.
const REGIONS: &[(&str, &str)] = &[
    ("af-south-1", "aws"),
    ("ap-east-1", "aws"),
    ("ap-east-2", "aws"),
    ("ap-northeast-1", "aws"),
    ("ap-northeast-2", "aws"),
    ("ap-northeast-3", "aws"),
    ("ap-south-1", "aws"),
    ("ap-south-2", "aws"),
    ("ap-southeast-1", "aws"),
    ("ap-southeast-2", "aws"),
    ("ap-southeast-3", "aws"),
    ("ap-southeast-4", "aws"),
    ("ap-southeast-5", "aws"),
    ("ap-southeast-6", "aws"),
    ("ap-southeast-7", "aws"),
    ("ca-central-1", "aws"),
    ("ca-west-1", "aws"),
    ("cn-north-1", "aws-cn"),
    ("cn-northwest-1", "aws-cn"),
    ("eu-central-1", "aws"),
    ("eu-central-2", "aws"),
    ("eu-north-1", "aws"),
    ("eu-south-1", "aws"),
    ("eu-south-2", "aws"),
    ("eu-west-1", "aws"),
    ("eu-west-2", "aws"),
    ("eu-west-3", "aws"),
    ("il-central-1", "aws"),
    ("me-central-1", "aws"),
    ("me-south-1", "aws"),
    ("mx-central-1", "aws"),
    ("sa-east-1", "aws"),
    ("us-east-1", "aws"),
    ("us-east-2", "aws"),
    ("us-gov-east-1", "aws-us-gov"),
    ("us-gov-west-1", "aws-us-gov"),
    ("us-west-1", "aws"),
    ("us-west-2", "aws"),
];

/// Every region fanin knows, in name order.
pub const NAMES: [&str; REGIONS.len()] = {
    let mut names = [""; REGIONS.len()];
    let mut i = 0;
    while i < REGIONS.len() {
        names[i] = REGIONS[i].0;
        i += 1;
    }
    names
};

/// The partition of a known region, or `None` for a region fanin does not know.
pub fn partition_of(region: &str) -> Option<&'static str> {
    REGIONS
        .binary_search_by(|(name, _)| name.cmp(&region))
        .ok()
        .map(|i| REGIONS[i].1)
}

/// True when the text has the shape of a region name (`xx-name-N`), known or not; used to
/// tell a malformed value from an unknown one in messages.
pub fn looks_like_region(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    parts.len() >= 3
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty()
}

/// Every region fanin knows, in name order.
pub fn all() -> impl Iterator<Item = &'static str> {
    NAMES.iter().copied()
}

/// The partitions of the known regions, each once, in name order.
pub fn partitions() -> Vec<&'static str> {
    let mut partitions: Vec<&'static str> = REGIONS.iter().map(|(_, p)| *p).collect();
    partitions.sort_unstable();
    partitions.dedup();
    partitions
}

/// The regions of one partition, for "allowed: ..." messages.
pub fn names_in(partition: &str) -> Vec<&'static str> {
    REGIONS
        .iter()
        .filter(|(_, p)| *p == partition)
        .map(|(r, _)| *r)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_for_binary_search() {
        assert!(REGIONS.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn knows_partitions() {
        assert_eq!(partition_of("us-east-1"), Some("aws"));
        assert_eq!(partition_of("cn-north-1"), Some("aws-cn"));
        assert_eq!(partition_of("us-gov-west-1"), Some("aws-us-gov"));
        assert_eq!(partition_of("us-east-9"), None);
        assert!(looks_like_region("us-east-9"));
        assert!(!looks_like_region("US_EAST_1"));
    }
}
