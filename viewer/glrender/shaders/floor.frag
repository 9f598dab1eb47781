#version 330 core
in vec2 vXZ;

uniform vec3 uEye;
uniform vec3 uBackground;
uniform float uFade; // distance at which the floor has faded into the background

out vec4 fragColor;

// Anti-aliased grid lines: the distance to the nearest line in pixels. A
// grid whose cells shrink below a few pixels fades out instead of turning
// into moiré.
float gridLine(vec2 p, float spacing, float widthPx) {
    vec2 g = p / spacing;
    vec2 w = fwidth(g);
    vec2 d = abs(fract(g - 0.5) - 0.5) / w;
    float line = 1.0 - clamp(min(d.x, d.y) - widthPx * 0.5 + 0.5, 0.0, 1.0);
    return line * (1.0 - smoothstep(0.12, 0.3, max(w.x, w.y)));
}

float axisLine(float coord, float widthPx) {
    float d = abs(coord) / fwidth(coord);
    return 1.0 - clamp(d - widthPx * 0.5 + 0.5, 0.0, 1.0);
}

void main() {
    vec3 floorColor = uBackground * 1.25 + vec3(0.015);
    vec3 c = floorColor;
    c = mix(c, vec3(0.30, 0.32, 0.36), gridLine(vXZ, 0.25, 1.0) * 0.35);
    c = mix(c, vec3(0.40, 0.42, 0.47), gridLine(vXZ, 1.0, 1.2));
    c = mix(c, vec3(0.85, 0.30, 0.30), axisLine(vXZ.y, 2.0)); // the X axis (z = 0)
    c = mix(c, vec3(0.30, 0.50, 0.95), axisLine(vXZ.x, 2.0)); // the Z axis (x = 0)
    float dist = length(vec3(vXZ.x, 0.0, vXZ.y) - uEye);
    c = mix(c, uBackground, smoothstep(uFade * 0.4, uFade, dist));
    fragColor = vec4(c, 1.0);
}
