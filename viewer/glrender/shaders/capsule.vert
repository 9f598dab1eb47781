#version 330 core
// One capsule per instance: the unit mesh is a sphere split at its equator;
// each half is carried to one end of the bone and scaled by the radius, so
// the equator band becomes the cylinder.
layout(location = 0) in vec3 aUnit;  // unit-sphere point, y along the bone
layout(location = 1) in float aEnd;  // 0: the A half, 1: the B half
layout(location = 2) in vec4 iA;     // xyz, radius
layout(location = 3) in vec4 iB;     // xyz, unused
layout(location = 4) in vec4 iColor;

uniform mat4 uViewProj;

out vec3 vNormal;
out vec3 vWorld;
out vec4 vColor;

void main() {
    vec3 axis = iB.xyz - iA.xyz;
    float len = length(axis);
    vec3 w = len > 1e-6 ? axis / len : vec3(0.0, 1.0, 0.0);
    vec3 helper = abs(w.y) < 0.99 ? vec3(0.0, 1.0, 0.0) : vec3(1.0, 0.0, 0.0);
    vec3 u = normalize(cross(helper, w));
    vec3 v = cross(w, u);
    vec3 n = u * aUnit.x + w * aUnit.y + v * aUnit.z;
    vec3 p = mix(iA.xyz, iB.xyz, aEnd) + iA.w * n;
    vNormal = n;
    vWorld = p;
    vColor = iColor;
    gl_Position = uViewProj * vec4(p, 1.0);
}
