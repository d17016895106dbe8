import OCI

extension ImageSettings {
    /// Reads the settings a build inherits from an image config.
    public init(_ config: ImageConfig) {
        let container = config.config ?? ContainerConfig()
        self.init(
            environment: container.env ?? [], user: container.user.flatMap { $0.isEmpty ? nil : $0 },
            workingDirectory: container.workingDir.flatMap { $0.isEmpty ? nil : $0 }, entrypoint: container.entrypoint,
            cmd: container.cmd, labels: container.labels ?? [:], exposedPorts: (container.exposedPorts ?? [:]).keys.sorted(),
            volumes: (container.volumes ?? [:]).keys.sorted(), stopSignal: container.stopSignal, shell: container.shell,
            healthcheck: container.healthcheck.map {
                HealthcheckSettings(
                    test: $0.test ?? [], interval: $0.interval, timeout: $0.timeout, startPeriod: $0.startPeriod,
                    startInterval: $0.startInterval, retries: $0.retries)
            }, onBuild: container.onBuild ?? [], author: config.author)
    }

    /// The `config` object of an image config with these settings; empty fields are left out.
    public var containerConfig: ContainerConfig {
        var container = ContainerConfig()
        container.env = environment.isEmpty ? nil : environment
        container.user = user
        container.workingDir = workingDirectory
        container.entrypoint = entrypoint
        container.cmd = cmd
        container.labels = labels.isEmpty ? nil : labels
        container.exposedPorts = exposedPorts.isEmpty ? nil : Dictionary(uniqueKeysWithValues: exposedPorts.map { ($0, EmptyObject()) })
        container.volumes = volumes.isEmpty ? nil : Dictionary(uniqueKeysWithValues: volumes.map { ($0, EmptyObject()) })
        container.stopSignal = stopSignal
        container.shell = shell
        container.onBuild = onBuild.isEmpty ? nil : onBuild
        if let healthcheck {
            var check = Healthcheck(test: healthcheck.test)
            check.interval = healthcheck.interval
            check.timeout = healthcheck.timeout
            check.startPeriod = healthcheck.startPeriod
            check.startInterval = healthcheck.startInterval
            check.retries = healthcheck.retries
            container.healthcheck = check
        }
        return container
    }
}
