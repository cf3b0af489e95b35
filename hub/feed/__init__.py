"""The change feed: what publication changed, per entity, read by consumers in order with a cursor.

`outbox.record_changes` writes the events in publication's transaction; `view.feed_steps` reads a consumer's
page of them (scope and types in the SQL, values shown through `hub.protect.present`), the API's
/api/v1/feed, `hub feed tail` and the webhook worker alike.
"""
