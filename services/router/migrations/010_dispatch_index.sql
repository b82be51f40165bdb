-- The dispatchers keep queues, memberships, worker attributes and workflows in memory (a cache):
-- any committed change to them tells every router instance, which drops its copy.
CREATE FUNCTION router_index_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('router_index_' || md5(current_schema()), '');
    RETURN NULL;
END
$$;

CREATE TRIGGER queue_members_index AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON queue_members
    FOR EACH STATEMENT EXECUTE FUNCTION router_index_changed();
CREATE TRIGGER task_queues_index AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON task_queues
    FOR EACH STATEMENT EXECUTE FUNCTION router_index_changed();
CREATE TRIGGER workflows_index AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON workflows
    FOR EACH STATEMENT EXECUTE FUNCTION router_index_changed();
CREATE TRIGGER workers_index AFTER INSERT OR DELETE OR UPDATE OF attributes, friendly_name ON workers
    FOR EACH STATEMENT EXECUTE FUNCTION router_index_changed();
