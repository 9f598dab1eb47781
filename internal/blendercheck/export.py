# Runs inside Blender (blender -b --python export.py -- job.json): imports a
# BVH with Blender's importer and exports the scene with Blender's own FBX
# exporter (default options but the ones named), so tests can read an FBX
# that a real tool wrote.
import json
import os
import sys

import bpy

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bvhimport import import_bvh  # noqa: E402

job = json.load(open(sys.argv[sys.argv.index("--") + 1]))
bpy.ops.wm.read_factory_settings(use_empty=True)
import_bvh(job["bvh"], job["scale"])
# Simplify 0 keeps a key at every frame: Blender's simplified keys are meant
# for cubic interpolation, which our reader does not do yet (it is linear).
bpy.ops.export_scene.fbx(filepath=job["out"], object_types={"ARMATURE"}, bake_anim=True,
                         bake_anim_simplify_factor=job["simplify"])
print("BLENDERCHECK_EXPORTED")
sys.stdout.flush()
