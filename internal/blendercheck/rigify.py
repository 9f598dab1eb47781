# Runs inside Blender (blender -b --python rigify.py -- job.json): builds a
# Rigify rig the way an animator does (the Human metarig, then Generate Rig)
# and exports its deform skeleton, the DEF- bones a game engine or another
# tool receives, as FBX, GLB and a JSON list of bones (Blender's BVH exporter
# writes Z up, which no BVH reader expects, so no BVH).
#
# Rigify parents many DEF- bones to ORG-/MCH- control bones (DEF-thigh.L
# hangs on ORG-spine), so the deform-only skeleton re-parents each DEF- bone
# to the DEF- counterpart of its nearest ancestor that has one (ORG-spine ->
# DEF-spine), as the usual game-rig exports do. Heads, tails and rolls are
# Rigify's own. Token triangles skinned to the bones give glTF a skin.
import json
import sys

import addon_utils
import bpy

job = json.load(open(sys.argv[sys.argv.index("--") + 1]))
bpy.ops.wm.read_factory_settings(use_empty=True)
addon_utils.enable("rigify", default_set=True, persistent=False)
bpy.ops.object.armature_human_metarig_add()
meta = bpy.context.active_object
bpy.ops.pose.rigify_generate()
rig = next(o for o in bpy.context.scene.objects if o.type == "ARMATURE" and o is not meta)
bones = rig.data.bones


def deform_parent(b):
    """The DEF- counterpart of b's nearest ancestor that has one."""
    p = b.parent
    while p is not None:
        base = p.name
        for prefix in ("DEF-", "ORG-", "MCH-"):
            if base.startswith(prefix):
                base = base[len(prefix):]
                break
        cand = "DEF-" + base
        if cand != b.name and cand in bones:
            return cand
        p = p.parent
    return None


defs = [b for b in bones if b.name.startswith("DEF-") and b.use_deform]
parent = {b.name: deform_parent(b) for b in defs}
roots = [n for n, p in parent.items() if p is None]
if roots != ["DEF-spine"]:
    raise RuntimeError("expected DEF-spine as the only root, got %s" % roots)

# Edit-bone data (rolls) of the generated rig.
bpy.ops.object.select_all(action="DESELECT")
bpy.context.view_layer.objects.active = rig
rig.select_set(True)
bpy.ops.object.mode_set(mode="EDIT")
edit = {n: (e.head.copy(), e.tail.copy(), e.roll) for n, e in rig.data.edit_bones.items() if n in parent}
bpy.ops.object.mode_set(mode="OBJECT")

# The deform skeleton as its own armature object.
data = bpy.data.armatures.new("rigify_deform")
arm = bpy.data.objects.new("rigify_deform", data)
bpy.context.scene.collection.objects.link(arm)
for o in list(bpy.context.scene.objects):
    if o is not arm:
        bpy.data.objects.remove(o, do_unlink=True)
bpy.context.view_layer.objects.active = arm
arm.select_set(True)
bpy.ops.object.mode_set(mode="EDIT")
for n, (h, t, r) in edit.items():
    e = data.edit_bones.new(n)
    e.head, e.tail, e.roll = h, t, r
for n, p in parent.items():
    if p is not None:
        data.edit_bones[n].parent = data.edit_bones[p]
bpy.ops.object.mode_set(mode="OBJECT")

# A small triangle at each bone's head, skinned to it: glTF exports a
# skeleton only as a mesh's skin.
mesh = bpy.data.meshes.new("body")
verts, faces = [], []
for n in edit:
    h = edit[n][0]
    faces.append((len(verts), len(verts) + 1, len(verts) + 2))
    verts += [tuple(h), (h.x + 0.01, h.y, h.z), (h.x, h.y, h.z + 0.01)]
mesh.from_pydata(verts, [], faces)
body = bpy.data.objects.new("body", mesh)
bpy.context.scene.collection.objects.link(body)
body.parent = arm
mod = body.modifiers.new("Armature", "ARMATURE")
mod.object = arm
for i, n in enumerate(edit):
    body.vertex_groups.new(name=n).add([3 * i, 3 * i + 1, 3 * i + 2], 1.0, "REPLACE")

out = job["dir"]
bpy.ops.object.select_all(action="SELECT")
bpy.ops.export_scene.fbx(filepath=out + "/rigify.fbx", use_selection=True,
                         object_types={"ARMATURE", "MESH"}, add_leaf_bones=False, bake_anim=False)
bpy.ops.export_scene.gltf(filepath=out + "/rigify.glb", export_format="GLB", use_selection=True,
                          export_animations=False)
with open(out + "/rigify.json", "w") as f:
    json.dump([{"name": n, "parent": parent[n],
                "head": list(edit[n][0]), "tail": list(edit[n][1]), "roll": edit[n][2]} for n in edit], f)
print("BLENDERCHECK_RIGIFY %d" % len(edit))
sys.stdout.flush()
