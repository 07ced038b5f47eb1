"""A replica's share of the cores (``Settings.threads``, ``BOT_THREADS``).

ONNX Runtime, torch and the BLAS under numpy each start one thread per core by default. One process per machine
wants that; N replicas on one machine would each spin as many threads as there are cores and fight over them (every
replica's latency rises, throughput does not). ``threads`` = cores ÷ replicas gives each its share. 0 keeps the
libraries' defaults (one replica per machine, as before). The embedder's ONNX session takes its share where it is
made (``OnnxEmbedder``, bot/build/embed.py); this module caps the process-wide pools.

FAISS is not raised here: ``bot/retrieve/hybrid.py`` keeps it at one OpenMP thread on purpose (measured faster, and
its spin-waiting slowed the embedder), which is already within any share.
"""

from __future__ import annotations

import logging

from bot.errors import ConfigError

log = logging.getLogger(__name__)


def apply_threads(threads: int) -> None:
    """Cap the process-wide pools (torch, BLAS) to ``threads``; FAISS stays at its one thread. Call before the
    first query; 0 does nothing."""
    if threads < 0:
        raise ConfigError(f"BOT_THREADS={threads} must be 0 (the libraries' defaults) or a number of threads")
    if threads == 0:
        return
    from threadpoolctl import threadpool_limits

    # BLAS only: the "openmp" pool is FAISS's, which hybrid.py holds at 1 and a limit of ``threads`` would raise.
    threadpool_limits(limits=threads, user_api="blas")
    try:
        import torch
    except ImportError:  # the ONNX backend does not need torch at query time
        return
    torch.set_num_threads(threads)
    log.info("threads per replica: %d (ONNX intra-op, torch, BLAS)", threads)
