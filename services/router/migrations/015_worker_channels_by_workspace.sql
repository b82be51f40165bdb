-- Each dispatch round asks which of a workspace's worker channels changed since its last read (and a
-- workspace's deletion cascades to them): both read by workspace, which without this scans every workspace.
CREATE INDEX worker_channels_by_workspace ON worker_channels (workspace_sid);
