#version 330 core
// Onion-skin ghosts: translucent and many, so lit with the key light only.
in vec3 vNormal;
in vec3 vWorld;
in vec4 vColor;

out vec4 fragColor;

const vec3 keyDir = normalize(vec3(0.35, 0.85, 0.45));

void main() {
    float light = 0.45 + 0.55 * max(dot(normalize(vNormal), keyDir), 0.0);
    fragColor = vec4(vColor.rgb * light, vColor.a);
}
