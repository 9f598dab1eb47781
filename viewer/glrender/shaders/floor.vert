#version 330 core
// A square of the floor plane around the camera's target.
layout(location = 0) in vec2 aCorner; // -1..1

uniform mat4 uViewProj;
uniform vec2 uCenter;
uniform float uHalf;

out vec2 vXZ;

void main() {
    vXZ = uCenter + aCorner * uHalf;
    gl_Position = uViewProj * vec4(vXZ.x, 0.0, vXZ.y, 1.0);
}
