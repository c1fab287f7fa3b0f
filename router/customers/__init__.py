"""The customer store: who a caller is, kept in Redis and imported from files.

``model`` is the frozen record routing reads, ``phone`` the one number rule,
``codec`` the storage layout, ``store`` the call-path lookup and the admin
edits, ``rows``/``import_rows``/``importer`` the validated bulk import.
"""

__all__: list[str] = []
