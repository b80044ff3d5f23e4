"""The store's errors: StoreError in words (naming the store), StoreTooNew, LeaseLost.
"""



class StoreError(Exception):
    """The store cannot be opened or used; str() says which file and why, in words."""


class StoreTooNew(StoreError):
    """The store was made by a newer pyroTorrent: waiting will not help, updating will."""


class LeaseLost(StoreError):
    """A write made on a lease (Store.transaction(lease=...)) found the lease gone or taken."""
