#version 330 core
in vec2 vXZ;
flat in vec4 vAB;
flat in vec4 vShape;
flat in vec4 vColor;

out vec4 fragColor;

void main() {
    vec2 a = vAB.xy, b = vAB.zw;
    vec2 ab = b - a;
    float t = clamp(dot(vXZ - a, ab) / max(dot(ab, ab), 1e-12), 0.0, 1.0);
    float d = length(vXZ - (a + t * ab));
    float radius = vShape.x, ring = vShape.y, soft = vShape.z;
    float aa = fwidth(d);
    float edge = max(soft, aa);
    float alpha = 1.0 - smoothstep(radius - edge, radius, d);
    if (ring > 0.0) {
        alpha *= smoothstep(radius - ring - aa, radius - ring, d);
    }
    if (alpha <= 0.0) {
        discard;
    }
    fragColor = vec4(vColor.rgb, vColor.a * alpha);
}
