#version 330 core
in vec3 vNormal;
in vec3 vWorld;
in vec4 vColor;

uniform vec3 uEye;

out vec4 fragColor;

// A key light from above and in front, a sky/ground ambient and a soft rim:
// enough to read the volume of a bone without a shadow map.
const vec3 keyDir = normalize(vec3(0.35, 0.85, 0.45));

void main() {
    vec3 n = normalize(vNormal);
    vec3 view = normalize(uEye - vWorld);
    float diffuse = max(dot(n, keyDir), 0.0);
    float ambient = mix(0.28, 0.5, n.y * 0.5 + 0.5);
    float rim = pow(1.0 - max(dot(n, view), 0.0), 3.0) * 0.25;
    vec3 h = normalize(keyDir + view);
    float spec = pow(max(dot(n, h), 0.0), 32.0) * 0.18;
    vec3 c = vColor.rgb * (ambient + 0.65 * diffuse) + vec3(rim + spec);
    fragColor = vec4(min(c, vec3(1.0)), vColor.a);
}
