"""Collection: consenting pages send gaze batches to ``gazesite collect``, which stores them for ``gazesite report``.

``protocol`` defines the batch schema and its limits (one source for the
server and, through the build's page settings, the page); ``storage`` keeps
batches in SQLite and reads them back as samples v2 documents; ``server`` is
the receiving HTTP server; ``page`` turns ``build --collect`` options into
page settings and the consent notice; ``loadtest`` proves that no sample is
lost or stored twice while the server is killed and restarted under load.
"""
