#version 330 core
// Onion-skin ghosts: translucent and many, so lit with the key light only.
in vec3 vNormal;
in vec4 vColor;

out vec4 fragColor;

void main() {
    fragColor = vec4(shadeGhost(vColor.rgb, normalize(vNormal)), vColor.a);
}
