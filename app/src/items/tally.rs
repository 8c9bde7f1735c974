//! Badge counts without a scan: what a reader's counts are, given the org's per-role-key
//! totals and the few items where the reader differs from the default (read, archived, or
//! named directly). Plain Rust, so the rule is tested without a database.

use super::{Category, Counts, Kind};

/// What the counts need to know of one item and the reader's state of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemFacts {
    pub category: Category,
    pub open: bool,
    /// An action past its due date (now).
    pub overdue: bool,
    pub read: bool,
    pub archived: bool,
}

impl ItemFacts {
    /// The same item as it stands for a reader who never touched it.
    fn untouched(self) -> ItemFacts {
        ItemFacts {
            read: false,
            archived: false,
            ..self
        }
    }
}

/// Accumulates a reader's counts; signed, because corrections subtract.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    counts: Counts,
}

impl From<Counts> for Tally {
    /// Starts from counts already made, to apply one more item to them.
    fn from(counts: Counts) -> Self {
        Tally { counts }
    }
}

impl Tally {
    /// `n` open items of `category` that the reader has not touched.
    pub fn add_open(&mut self, category: Category, n: i64) {
        let c = &mut self.counts;
        match category {
            Category::Mandatory => c.mandatory += n,
            Category::Recommended => c.recommended += n,
            Category::Transactional => c.transactional += n,
            Category::Promotional => c.promotional += n,
        }
        match category.kind() {
            Kind::Action => c.pending_actions += n,
            Kind::Notification => c.unread_notifications += n,
        }
    }

    /// `n` open actions past their due date that the reader has not archived.
    pub fn add_overdue(&mut self, n: i64) {
        self.counts.overdue_actions += n;
    }

    /// `n` items alike, in the state given, that the totals do not hold (named directly);
    /// a negative `n` takes them away.
    pub fn add_item(&mut self, item: ItemFacts, n: i64) {
        if item.archived || !item.open {
            return;
        }
        self.add_open(item.category, n);
        if item.category.kind() == Kind::Action && item.overdue {
            self.add_overdue(n);
        }
        if item.read && item.category.kind() == Kind::Notification {
            self.counts.unread_notifications -= n;
        }
    }

    /// Replaces `n` untouched items alike, which the totals hold, by the reader's own state.
    pub fn correct(&mut self, item: ItemFacts, n: i64) {
        self.add_item(item.untouched(), -n);
        self.add_item(item, n);
    }

    pub fn counts(self) -> Counts {
        self.counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(category: Category) -> ItemFacts {
        ItemFacts {
            category,
            open: true,
            overdue: false,
            read: false,
            archived: false,
        }
    }

    #[test]
    fn totals_fill_the_badge_and_the_category_counts() {
        let mut t = Tally::default();
        t.add_open(Category::Mandatory, 3);
        t.add_open(Category::Recommended, 2);
        t.add_open(Category::Promotional, 4);
        t.add_overdue(1);
        let c = t.counts();
        assert_eq!((c.pending_actions, c.mandatory, c.recommended), (5, 3, 2));
        assert_eq!(
            (c.promotional, c.transactional, c.unread_notifications),
            (4, 0, 4)
        );
        assert_eq!(c.overdue_actions, 1);
    }

    #[test]
    fn archiving_removes_an_item_from_every_count_and_reading_only_from_unread() {
        let mut t = Tally::default();
        t.add_open(Category::Transactional, 2);
        t.add_open(Category::Recommended, 1);
        t.add_overdue(1);
        t.correct(
            ItemFacts {
                read: true,
                ..facts(Category::Transactional)
            },
            1,
        );
        t.correct(
            ItemFacts {
                archived: true,
                overdue: true,
                ..facts(Category::Recommended)
            },
            1,
        );
        let c = t.counts();
        assert_eq!((c.transactional, c.unread_notifications), (2, 1));
        assert_eq!((c.recommended, c.pending_actions, c.overdue_actions), (0, 0, 0));
    }

    #[test]
    fn closed_items_count_nowhere_and_named_items_add_like_totals() {
        let mut t = Tally::default();
        t.correct(
            ItemFacts {
                open: false,
                archived: true,
                ..facts(Category::Mandatory)
            },
            3,
        );
        assert_eq!(t.counts(), Counts::default());
        t.add_item(
            ItemFacts {
                overdue: true,
                ..facts(Category::Mandatory)
            },
            2,
        );
        let c = t.counts();
        assert_eq!((c.pending_actions, c.mandatory, c.overdue_actions), (2, 2, 2));
    }
}
