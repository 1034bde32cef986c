#!/usr/bin/python3
"""Writes the NumPy fixtures the .npy/.npz tests read. Run with Debian's python3-numpy:
   /usr/bin/python3 make_fixtures.py   (in this directory)"""
import numpy as np

a = np.arange(12, dtype=np.float64).reshape(3, 4) / 8 - 0.5
arrays = {
    "f4": a.astype("<f4"),
    "f8": a,
    "f8_big": a.astype(">f8"),
    "f4_fortran": np.asfortranarray(a.astype("<f4")),
    "u1": np.array([[0, 1, 255], [7, 8, 9]], dtype=np.uint8),
    "i1": np.array([-128, -1, 0, 127], dtype=np.int8),
    "i4": np.array([-5, 0, 2147483647], dtype=np.int32),
    "i8": np.array([[-9000000000, 1], [2, 3]], dtype=np.int64),
    "vector": np.array([1.5, -2.5], dtype=np.float32),
}
np.savez("numpy_arrays.npz", **arrays)
np.savez_compressed("numpy_arrays_compressed.npz", **arrays)
np.save("numpy_v1.npy", a.astype("<f4"))
with open("numpy_v2.npy", "wb") as f:
    np.lib.format.write_array(f, a.astype("<f4"), version=(2, 0))
with open("numpy_v3.npy", "wb") as f:
    np.lib.format.write_array(f, a.astype("<f4"), version=(3, 0))
np.save("numpy_object.npy", np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
# A dataset in the original's layout: integer labels.
rng = np.random.default_rng(0)
np.savez_compressed("numpy_dataset.npz",
                    Xtrain=rng.standard_normal((6, 3)).astype(np.float32), Ttrain=np.array([0, 1, 2, 1, 0, 2]),
                    Xtest=rng.standard_normal((2, 3)).astype(np.float32), Ttest=np.array([2, 0]))
