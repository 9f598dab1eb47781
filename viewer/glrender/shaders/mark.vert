#version 330 core
// One flat stadium shape per instance on the floor: every point within
// radius of the segment A–B (xz). The quad covers it with a margin.
layout(location = 0) in vec2 aCorner; // x: 0 at A, 1 at B; y: -1..1 across
layout(location = 1) in vec4 iAB;     // A.xz, B.xz
layout(location = 2) in vec4 iShape;  // radius, ring, soft, height
layout(location = 3) in vec4 iColor;

uniform mat4 uViewProj;

out vec2 vXZ;
flat out vec4 vAB;
flat out vec4 vShape;
flat out vec4 vColor;

void main() {
    vec2 a = iAB.xy, b = iAB.zw;
    vec2 d = b - a;
    float len = length(d);
    vec2 dir = len > 1e-6 ? d / len : vec2(1.0, 0.0);
    vec2 perp = vec2(-dir.y, dir.x);
    float r = iShape.x + 0.01;
    vec2 p = mix(a - dir * r, b + dir * r, aCorner.x) + perp * aCorner.y * r;
    vXZ = p;
    vAB = iAB;
    vShape = iShape;
    vColor = iColor;
    gl_Position = uViewProj * vec4(p.x, iShape.w, p.y, 1.0);
}
