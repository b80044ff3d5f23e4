"""A file of an rTorrent torrent: the neutral File, plus the chunks rtorrent counts it in."""
import dataclasses

from model.clients.detail import File


@dataclasses.dataclass
class RTorrentFile(File):
    chunks: int = 0               # f.size_chunks: its size in chunks
    chunks_completed: int = 0     # of the chunks it touches (first_chunk to end_chunk)
    first_chunk: int = 0
    end_chunk: int = 0            # one past its last chunk

    @classmethod
    def from_row(cls, index, row):
        """From the commands.FILE fields: `completed` in bytes, from the chunks it touches (a
        file that does not start on a chunk boundary can count 6 completed of its 5 chunks)."""
        touched = row['end_chunk'] - row['first_chunk']
        if touched <= 0:
            touched = row['chunks']
        done = 1.0 if touched <= 0 else min(1.0, row['chunks_completed'] / touched)
        completed = row['size'] if done >= 1.0 else int(row['size'] * done)
        return cls(index=index, completed=completed, **row)
