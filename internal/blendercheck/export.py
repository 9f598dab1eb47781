# Runs inside Blender (blender -b --python export.py -- job.json): imports a
# BVH with Blender's importer and exports the scene with Blender's own FBX
# exporter (default options but the ones named), so tests can read an FBX
# that a real tool wrote.
import builtins
import json
import sys

import bpy

job = json.load(open(sys.argv[sys.argv.index("--") + 1]))
bpy.ops.wm.read_factory_settings(use_empty=True)
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
        filepath=job["bvh"], global_scale=job["scale"], frame_start=1,
        use_fps_scale=False, update_scene_fps=True, update_scene_duration=True,
        rotate_mode="NATIVE", axis_forward="-Z", axis_up="Y")
finally:
    builtins.open = real_open
# Simplify 0 keeps a key at every frame: Blender's simplified keys are meant
# for cubic interpolation, which our reader does not do yet (it is linear).
bpy.ops.export_scene.fbx(filepath=job["out"], object_types={"ARMATURE"}, bake_anim=True,
                         bake_anim_simplify_factor=job["simplify"])
print("BLENDERCHECK_EXPORTED")
sys.stdout.flush()
