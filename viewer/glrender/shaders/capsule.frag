#version 330 core
in vec3 vNormal;
in vec3 vWorld;
in vec4 vColor;

uniform vec3 uEye;

out vec4 fragColor;

void main() {
    fragColor = vec4(shade(vColor.rgb, normalize(vNormal), normalize(uEye - vWorld)), vColor.a);
}
