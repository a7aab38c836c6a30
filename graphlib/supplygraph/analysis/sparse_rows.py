"""Row-wise assembly of sparse ``scenarios x nodes`` loss blocks.

The all-scenarios kernels keep one row per scenario. Sparse products sum each row's terms in the
order the row stores its entries, so that order must depend on the row alone -- never on the
other scenarios of the batch -- for a sweep split into chunks (``--workers``, Dask) to give
bit-identical numbers. scipy's own assembly does not guarantee that: ``A + B`` and
``sum_duplicates`` sort the rows only when the *whole* matrix is unsorted. The helpers here build
every row from that row's entries only, in linear time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import scipy.sparse as sp

__all__ = ["insert_empty_rows", "join_rows", "set_ones"]


def join_rows(A: sp.csr_matrix, B: sp.csr_matrix) -> sp.csr_matrix:
    """Entries of ``A`` and ``B`` (no common cells), row by row: A's entries, then B's.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> A = sp.csr_matrix(([1.0, 2.0], [2, 0], [0, 2, 2]), shape=(2, 3))
    >>> B = sp.csr_matrix(([3.0, 4.0], [1, 1], [0, 1, 2]), shape=(2, 3))
    >>> C = join_rows(A, B)
    >>> C.indices.tolist(), C.toarray().tolist()
    ([2, 0, 1, 1], [[2.0, 3.0, 1.0], [0.0, 4.0, 0.0]])
    """
    import scipy.sparse as sp

    ca, cb = np.diff(A.indptr), np.diff(B.indptr)
    ptr = np.zeros(len(ca) + 1, dtype=np.int64)
    np.cumsum(ca + cb, out=ptr[1:])
    pos_a = np.arange(A.nnz) + np.repeat(ptr[:-1] - A.indptr[:-1], ca)
    pos_b = np.arange(B.nnz) + np.repeat(ptr[:-1] + ca - B.indptr[:-1], cb)
    idx = np.empty(A.nnz + B.nnz, dtype=np.int64)
    dat = np.empty(A.nnz + B.nnz)
    idx[pos_a], dat[pos_a] = A.indices, A.data
    idx[pos_b], dat[pos_b] = B.indices, B.data
    return sp.csr_matrix((dat, idx, ptr), shape=A.shape)


def set_ones(A: sp.csr_matrix, rows: np.ndarray, cols: np.ndarray) -> sp.csr_matrix:
    """``A`` with the cells ``(rows[i], cols[i])`` set to 1 (new cells go after a row's entries).

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> A = sp.csr_matrix(([0.5, 0.25], [1, 0], [0, 2, 2]), shape=(2, 2))
    >>> set_ones(A, np.array([0, 1]), np.array([0, 1])).toarray().tolist()
    [[1.0, 0.5], [0.0, 1.0]]
    """
    import scipy.sparse as sp

    S, n = A.shape
    key = np.unique(np.asarray(rows, dtype=np.int64) * n + np.asarray(cols, dtype=np.int64))
    r = np.repeat(np.arange(S, dtype=np.int64), np.diff(A.indptr))
    have = r * n + A.indices
    data = A.data.copy()
    data[np.isin(have, key)] = 1.0
    new = key[~np.isin(key, have)]  # sorted: grouped by row
    ptr = np.zeros(S + 1, dtype=np.int64)
    np.cumsum(np.bincount(new // n, minlength=S), out=ptr[1:])
    B = sp.csr_matrix((np.ones(len(new)), new % n, ptr), shape=(S, n))
    return join_rows(sp.csr_matrix((data, A.indices, A.indptr), shape=(S, n)), B)


def insert_empty_rows(
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    S: int,
    ncol: int,
    rows: np.ndarray,
    cols: np.ndarray,
) -> sp.csr_matrix:
    """CSR matrix plus one entry of value 1 in each of ``rows`` (distinct, currently empty).

    The fast case of :func:`set_ones` (one removed node per scenario, whose row has no entries
    yet in the removed node's level).

    Examples
    --------
    >>> M = insert_empty_rows(np.array([0, 1, 1]), np.array([0]), np.array([0.5]), 2, 2,
    ...                       np.array([1]), np.array([1]))
    >>> M.toarray().tolist()
    [[0.5, 0.0], [0.0, 1.0]]
    """
    import scipy.sparse as sp

    counts = np.diff(indptr)
    add = np.zeros(S, dtype=np.int64)
    add[rows] = 1
    new_ptr = np.zeros(S + 1, dtype=np.int64)
    np.cumsum(counts + add, out=new_ptr[1:])
    shift = new_ptr[:-1] - indptr[:-1]
    nnz = len(data) + len(rows)
    new_idx = np.empty(nnz, dtype=np.int64)
    new_dat = np.empty(nnz)
    pos = np.arange(len(data)) + np.repeat(shift, counts)
    new_idx[pos] = indices
    new_dat[pos] = data
    new_idx[new_ptr[rows]] = cols
    new_dat[new_ptr[rows]] = 1.0
    return sp.csr_matrix((new_dat, new_idx, new_ptr), shape=(S, ncol))
