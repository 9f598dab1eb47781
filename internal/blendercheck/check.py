# Runs inside Blender (blender -b --python check.py -- queries.json): imports
# each BVH, GLB or FBX with Blender's own importers, into an empty scene, and prints
# what Blender sees: the action's frame count, the scene fps, and world
# positions of named joints (bone heads) at given frames, converted back to
# Y-up. One line per query; an import that fails reports its error and the
# next query still runs.
import json
import os
import sys
import traceback

import bpy

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bvhimport import import_bvh  # noqa: E402


def check(query):
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    if query["format"] == "bvh":
        import_bvh(query["file"], query["scale"])
    elif query["format"] == "glb":
        # glTF carries no frame rate: the importer maps seconds to frames at the
        # scene's fps, so set it to the motion's first.
        fps = query["fps"]
        scene.render.fps = max(1, round(fps))
        scene.render.fps_base = scene.render.fps / fps
        # Debian's Blender 3.4 glTF importer computes flat/auto smoothing with
        # np.bool, which its NumPy no longer has; "SMOOTH" skips that path.
        bpy.ops.import_scene.gltf(filepath=query["file"], import_shading="SMOOTH")
    elif query["format"] == "fbx":
        # The file's GlobalSettings carry the frame rate and the units; the
        # importer sets the scene fps from them.
        bpy.ops.import_scene.fbx(filepath=query["file"])
    else:
        raise RuntimeError("unknown format " + query["format"])

    arms = [o for o in scene.objects if o.type == "ARMATURE"]
    if len(arms) != 1:
        raise RuntimeError("expected one armature, found %d" % len(arms))
    arm = arms[0]
    if arm.animation_data is None or arm.animation_data.action is None:
        raise RuntimeError("the armature has no action")
    start, end = arm.animation_data.action.frame_range
    missing = [j for j in query["joints"] if j not in arm.pose.bones]
    if missing:
        raise RuntimeError("bones not found: %s (have %s)" % (missing, [b.name for b in arm.pose.bones][:20]))

    positions = {j: [] for j in query["joints"]}
    for k in query["frames"]:
        scene.frame_set(int(start) + k)
        for j in query["joints"]:
            p = arm.matrix_world @ arm.pose.bones[j].head
            positions[j].append([p.x, p.z, -p.y])  # Blender Z-up -> Y-up
    out = {
        "frames": int(round(end - start)) + 1,
        "fps": scene.render.fps / scene.render.fps_base,
        "positions": positions,
    }
    if query.get("vertices"):
        out["mesh"] = skinned(query, scene, arm, int(start))
    return out


def skinned(query, scene, arm, start):
    """The one mesh's binding and its evaluated (deformed) vertices."""
    meshes = [o for o in scene.objects if o.type == "MESH"]
    if len(meshes) != 1:
        raise RuntimeError("expected one mesh, found %d" % len(meshes))
    ob = meshes[0]
    names = {g.index: g.name for g in ob.vertex_groups}
    groups = {name: 0 for name in names.values()}
    for v in ob.data.vertices:
        for ge in v.groups:
            if ge.weight > 0:
                groups[names[ge.group]] += 1
    skinned = [[] for _ in query["vertices"]]
    for k in query["frames"]:
        scene.frame_set(start + k)
        ev = ob.evaluated_get(bpy.context.evaluated_depsgraph_get())
        me = ev.to_mesh()
        for i, vi in enumerate(query["vertices"]):
            p = ev.matrix_world @ me.vertices[vi].co
            skinned[i].append([p.x, p.z, -p.y])
        ev.to_mesh_clear()
    return {
        "vertices": len(ob.data.vertices),
        "modifier": any(m.type == "ARMATURE" and m.object == arm for m in ob.modifiers),
        "groups": groups,
        "skinned": skinned,
    }


for i, query in enumerate(json.load(open(sys.argv[sys.argv.index("--") + 1]))):
    try:
        out = {"index": i, "result": check(query)}
    except Exception as e:  # report and go on with the next file
        out = {"index": i, "error": "%s: %s" % (type(e).__name__, e), "trace": traceback.format_exc()[-2000:]}
    print("BLENDERCHECK_RESULT " + json.dumps(out))
    sys.stdout.flush()
