-- Nothing reads this index any more: the reminder planner has one partial index per stage
-- (0004) and the overdue counts use items_open_actions_due (0005). Every published action still
-- wrote an entry to it, at a random page (due dates are not in publication order).
DROP INDEX items_open_actions_by_due;
