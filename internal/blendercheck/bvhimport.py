# Shared by check.py and export.py (staged beside them): Blender's own BVH
# importer, as the tests call it.
import builtins

import bpy


def import_bvh(path, scale):
    """Import a BVH at scale metres per file unit, keys from frame 1, the
    file's rate as the scene's, Y up and -Z forward."""
    # Debian's Blender 3.4 BVH importer opens files with mode "rU", which its
    # Python 3.11 rejects; drop the "U" for the duration of the import.
    real_open = builtins.open

    def open_without_u(file, mode="r", *args, **kwargs):
        if isinstance(mode, str):
            mode = mode.replace("U", "")
        return real_open(file, mode, *args, **kwargs)

    builtins.open = open_without_u
    try:
        bpy.ops.import_anim.bvh(
            filepath=path, global_scale=scale, frame_start=1,
            use_fps_scale=False, update_scene_fps=True, update_scene_duration=True,
            rotate_mode="NATIVE", axis_forward="-Z", axis_up="Y")
    finally:
        builtins.open = real_open
