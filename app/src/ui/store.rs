//! The signed-in user's items in the browser: one store, fed by the live stream, that every
//! view of items follows. The store holds the counts (the badge, the overview's tiles) and the
//! views that are on the page: each one registers how it applies a change to the items it
//! loaded (`live::follow`), so a delta from the stream updates the badge, the bell pane, the
//! lists and the overview in place, without asking the server for anything. When the stream may
//! have missed something (a resync, a failed stream, polling) every view fetches its data again
//! through its typed server function.

use std::sync::Arc;

use leptos::prelude::*;

use crate::items::Counts;
use crate::live::{Change, Followed, LiveMessage};

type View = Arc<dyn Fn(&[Change]) + Send + Sync>;

#[derive(Clone, Copy)]
pub struct ItemStore {
    /// The user's counts; `None` until known.
    pub counts: RwSignal<Option<Counts>>,
    /// Bumped when the views must fetch their data again; their resources track it.
    pub generation: RwSignal<u64>,
    /// Live updates fall back to polling (the stream cannot be opened).
    pub polling: RwSignal<bool>,
    views: StoredValue<Vec<(u64, View)>>,
    next_view: StoredValue<u64>,
}

impl ItemStore {
    /// The store of this page, made once by the app.
    pub fn provide() -> ItemStore {
        let store = ItemStore {
            counts: RwSignal::new(None),
            generation: RwSignal::new(0),
            polling: RwSignal::new(false),
            views: StoredValue::new(Vec::new()),
            next_view: StoredValue::new(0),
        };
        provide_context(store);
        store
    }

    pub fn get() -> ItemStore {
        expect_context::<ItemStore>()
    }

    /// Registers a view for as long as the calling component lives: `apply` is handed the
    /// changes of every live message (and of the user's own actions, see `apply_local`).
    pub fn follow(self, apply: impl Fn(&[Change]) + Send + Sync + 'static) {
        let id = self.next_view.get_value();
        self.next_view.set_value(id + 1);
        self.views.update_value(|v| v.push((id, Arc::new(apply))));
        on_cleanup(move || {
            self.views.try_update_value(|v| v.retain(|(i, _)| *i != id));
        });
    }

    /// Follows a resource of items: each change is applied to its loaded value by `apply`,
    /// which says what following it took; one that cannot be followed refetches the resource.
    pub fn follow_resource<T>(
        self,
        resource: super::PageResource<T>,
        apply: impl Fn(&mut T, &Change) -> Followed + Send + Sync + 'static,
    ) where
        T: serde::Serialize + serde::de::DeserializeOwned + Send + Sync + 'static,
    {
        self.follow(move |changes| {
            let mut refetch = false;
            resource.update(|value| {
                if let Some(value) = value {
                    for change in changes {
                        refetch |= apply(value, change) == Followed::Refetch;
                    }
                }
            });
            if refetch {
                resource.refetch();
            }
        });
    }

    /// A message from the stream.
    pub fn receive(self, message: LiveMessage) {
        self.counts.set(Some(message.counts));
        if message.changes.iter().any(|c| matches!(c, Change::Resync)) {
            self.refetch_all();
        } else {
            self.apply_local(&message.changes);
        }
    }

    /// Changes known in this page before the stream reports them (the user's own actions),
    /// so that every view shows them at once.
    pub fn apply_local(self, changes: &[Change]) {
        let focus = super::focus::FocusAnchor::take(crate::items::ITEM_LIST);
        let views: Vec<View> = self
            .views
            .with_value(|v| v.iter().map(|(_, view)| view.clone()).collect());
        for view in views {
            view(changes);
        }
        focus.restore();
    }

    /// Every view fetches its data again.
    pub fn refetch_all(self) {
        self.generation.update(|g| *g += 1);
    }
}
