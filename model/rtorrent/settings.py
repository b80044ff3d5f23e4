"""rTorrent's settings: what the worker and the settings page read and write."""
from model.rtorrent import commands


class Settings:
    def instance(self):
        """rtorrent's process id: it changes when rtorrent restarts (and every setting made
        over XML-RPC is gone)."""
        return self.call(commands.SETTINGS['pid'])
