-- Triage for readers.
-- Search (app/src/items/search.rs): per language the item can be read in, the folded words of
-- its title and body, as a JSON object. Publishing and revising write it; items stored before
-- this version get theirs from the lifecycle's next passes, which find them by the partial
-- index.
ALTER TABLE items ADD COLUMN search_words TEXT;
CREATE INDEX items_awaiting_search_words ON items (id) WHERE search_words IS NULL;
-- Snooze (app/src/items/user_state.rs): a snoozed item is archived for the reader until
-- `snoozed_until`, when the lifecycle brings it back.
ALTER TABLE item_states ADD COLUMN snoozed_until BIGINT;
CREATE INDEX item_states_snoozed ON item_states (snoozed_until) WHERE snoozed_until IS NOT NULL;
