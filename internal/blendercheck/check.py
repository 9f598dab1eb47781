# Runs inside Blender (blender -b --python check.py -- query.json): imports one
# BVH or GLB with Blender's own importers and prints what Blender sees: the
# action's frame count, the scene fps, and world positions of named joints
# (bone heads) at given frames, converted back to Y-up.
import builtins
import json
import sys

import bpy

query = json.load(open(sys.argv[sys.argv.index("--") + 1]))
bpy.ops.wm.read_factory_settings(use_empty=True)
scene = bpy.context.scene

if query["format"] == "bvh":
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
            filepath=query["file"], global_scale=query["scale"], frame_start=1,
            use_fps_scale=False, update_scene_fps=True, update_scene_duration=True,
            rotate_mode="NATIVE", axis_forward="-Z", axis_up="Y")
    finally:
        builtins.open = real_open
elif query["format"] == "glb":
    # glTF carries no frame rate: the importer maps seconds to frames at the
    # scene's fps, so set it to the motion's first.
    fps = query["fps"]
    scene.render.fps = max(1, round(fps))
    scene.render.fps_base = scene.render.fps / fps
    bpy.ops.import_scene.gltf(filepath=query["file"])
else:
    raise SystemExit("unknown format " + query["format"])

arms = [o for o in scene.objects if o.type == "ARMATURE"]
if len(arms) != 1:
    raise SystemExit("expected one armature, found %d" % len(arms))
arm = arms[0]
if arm.animation_data is None or arm.animation_data.action is None:
    raise SystemExit("the armature has no action")
start, end = arm.animation_data.action.frame_range
missing = [j for j in query["joints"] if j not in arm.pose.bones]
if missing:
    raise SystemExit("bones not found: %s (have %s)" % (missing, [b.name for b in arm.pose.bones][:20]))

positions = {j: [] for j in query["joints"]}
for k in query["frames"]:
    scene.frame_set(int(start) + k)
    for j in query["joints"]:
        p = arm.matrix_world @ arm.pose.bones[j].head
        positions[j].append([p.x, p.z, -p.y])  # Blender Z-up -> Y-up

print("BLENDERCHECK_RESULT " + json.dumps({
    "frames": int(round(end - start)) + 1,
    "fps": scene.render.fps / scene.render.fps_base,
    "positions": positions,
}))
sys.stdout.flush()
